//! AWS responses as a small element tree, read with `quick-xml`: the provider only ever
//! walks down by element name, so a tree is simpler than a serde type per response.

use quick_xml::events::Event;
use quick_xml::Reader;

/// One element: its local name (namespace prefixes dropped), its text and its children.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The element at a path of child names.
    pub fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |element, name| element.child(name))
    }

    /// The text of the child named `name`, when it is present.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// The text of the child named `name`, or an empty string.
    pub fn text_or_empty(&self, name: &str) -> String {
        self.text_of(name).unwrap_or_default().to_string()
    }

    /// The children named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The `<item>` children of the child named `list`, as EC2 writes its lists.
    pub fn items<'a>(&'a self, list: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.child(list).into_iter().flat_map(|l| l.all("item"))
    }

    /// The first element named `name` anywhere below this one, depth first.
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| if c.name == name { Some(c) } else { c.find(name) })
    }
}

/// Parses a document into a synthetic root whose children are the document's elements.
pub fn parse(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack = vec![Element::default()];
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                stack.push(Element { name, ..Element::default() });
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(Element { name, ..Element::default() });
                }
            }
            Event::Text(text) => {
                let text = text.unescape().map_err(|e| e.to_string())?;
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&text);
                }
            }
            Event::CData(data) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::End(_) => {
                let done = stack.pop().ok_or("unbalanced end tag")?;
                stack.last_mut().ok_or("unbalanced end tag")?.children.push(done);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    match stack.pop() {
        Some(root) if stack.is_empty() => Ok(root),
        _ => Err("the document ends inside an element".to_string()),
    }
}

/// Text escaped for an XML element's content or attribute.
pub fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_an_ec2_error() {
        let root = parse(
            "<?xml version=\"1.0\"?><Response><Errors><Error><Code>InvalidVpcID.NotFound</Code>\
             <Message>The vpc &apos;vpc-1&apos; does not exist</Message></Error></Errors></Response>",
        )
        .expect("parses");
        assert_eq!(root.find("Code").map(|c| c.text.as_str()), Some("InvalidVpcID.NotFound"));
        assert_eq!(root.find("Message").map(|c| c.text.as_str()), Some("The vpc 'vpc-1' does not exist"));
    }

    #[test]
    fn lists_items_and_drops_namespaces() {
        let root = parse("<a:R xmlns:a=\"x\"><set><item><k>1</k></item><item><k>2</k></item></set><e/></a:R>")
            .expect("parses");
        let r = root.child("R").expect("root element");
        let keys: Vec<&str> = r.items("set").filter_map(|i| i.text_of("k")).collect();
        assert_eq!(keys, ["1", "2"]);
        assert!(r.child("e").is_some());
        assert!(parse("<a><b></a>").is_err());
    }
}
