//! Outputs are a namespace of their own (#18 item 11): a module may take `hostname` in
//! and give `hostname` out. Inside the module the name means the input (or `let`, or
//! resource); callers read the output.

use std::path::Path;

use infra_compiler::check::Target;
use infra_compiler::graph::NodeKind;
use infra_compiler::resolve::DeclKind;
use infra_compiler::types::Type;
use infra_compiler::{analyze, Analysis, MemoryLoader};

/// A module `server` with outputs named like its input, `let` and resource, and a root
/// that calls it and reads them.
const SERVER: &str = r#"
input hostname: string
input port: number = 80
let fqdn = "${hostname}.internal"
resource random.id tag { byte_length = 2 }
output hostname = fqdn
output port = "${hostname}:${port}"
output fqdn = upper(fqdn)
output tag = tag.hex
"#;

const ROOT: &str = r#"
input hostname: string = "web"
module server "./server" { hostname = hostname }
output hostname = server.hostname
output address = "${server.hostname} on ${server.port}"
"#;

fn analysis(files: &[(&str, &str)]) -> Analysis {
    let mut loader = MemoryLoader::new();
    for (path, text) in files {
        loader.insert(format!("m/{path}"), text.as_bytes().to_vec());
    }
    analyze(Path::new("m"), &loader, infra_stdlib::builtin())
}

fn codes(analysis: &Analysis) -> Vec<String> {
    analysis.diagnostics.iter().map(|d| format!("{} {}", d.code, d.message)).collect()
}

#[test]
fn an_output_may_share_its_name_with_an_input_a_let_or_a_resource() {
    let analysis = analysis(&[("main.infra", ROOT), ("server/main.infra", SERVER)]);
    assert_eq!(codes(&analysis), Vec::<String>::new());
    let server = &analysis.modules[1];
    let kinds: Vec<(&str, DeclKind)> = server.decls.iter().map(|(n, d)| (n.as_str(), d.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("hostname", DeclKind::Input),
            ("port", DeclKind::Input),
            ("fqdn", DeclKind::Let),
            ("tag", DeclKind::Resource)
        ]
    );
    let outputs: Vec<&str> = server.outputs.keys().map(|k| k.as_str()).collect();
    assert_eq!(outputs, ["hostname", "port", "fqdn", "tag"]);
    assert_eq!(server.decl("port").map(|d| d.kind), Some(DeclKind::Input));
    assert_eq!(server.output("port").map(|d| d.kind), Some(DeclKind::Output));
}

#[test]
fn inside_the_module_a_shared_name_means_the_declaration_never_the_output() {
    let analysis = analysis(&[("main.infra", ROOT), ("server/main.infra", SERVER)]);
    let tables = &analysis.tables.modules[1];
    // The input's type, not the output's (a string built from it).
    assert_eq!(tables.decl_types.get("port"), Some(&Type::Number));
    assert_eq!(tables.output_types.get("port"), Some(&Type::String));
    // Every reference to `hostname` in the module is to the input, written in the `let`
    // and in the output `port`, never the output `hostname` itself.
    let hostname = Target::Decl("hostname".into());
    assert_eq!(tables.references.iter().filter(|r| r.target == hostname).count(), 2);
}

#[test]
fn the_graph_points_a_shared_name_at_the_declaration() {
    let analysis = analysis(&[("main.infra", ROOT), ("server/main.infra", SERVER)]);
    let graph = &analysis.graphs[1].graph;
    let node = |kind: NodeKind, name: &str| {
        graph.node_indices().find(|&i| graph[i].kind == kind && graph[i].name == name).expect("node")
    };
    let depends = |from, to| graph.find_edge(from, to).is_some();
    let (input, let_fqdn) = (node(NodeKind::Input, "hostname"), node(NodeKind::Let, "fqdn"));
    let (output_hostname, output_port) = (node(NodeKind::Output, "hostname"), node(NodeKind::Output, "port"));
    assert!(depends(let_fqdn, input));
    assert!(depends(output_hostname, let_fqdn));
    assert!(depends(output_port, input));
    assert!(depends(output_port, node(NodeKind::Input, "port")));
    // Nothing depends on an output: nothing in its module can read it.
    for output in [output_hostname, output_port] {
        assert_eq!(graph.neighbors_directed(output, petgraph::Direction::Incoming).count(), 0);
    }
    // At the root, the output `hostname` reads the call, and the call the input.
    let root = &analysis.graphs[0].graph;
    let root_node = |kind: NodeKind| root.node_indices().find(|&i| root[i].kind == kind && root[i].name == "hostname");
    let (root_input, root_output) = (root_node(NodeKind::Input).expect("input"), root_node(NodeKind::Output));
    let call = root.node_indices().find(|&i| root[i].kind == NodeKind::Module).expect("call");
    assert!(root.find_edge(call, root_input).is_some());
    assert!(root.find_edge(root_output.expect("output"), call).is_some());
}

#[test]
fn two_outputs_with_one_name_are_still_declared_twice() {
    let analysis =
        analysis(&[("main.infra", "input region: string = \"eu\"\noutput region = region\noutput region = 1\n")]);
    assert_eq!(codes(&analysis), ["E0200 the output `region` is declared twice"]);
    let help = analysis.diagnostics[0].help.as_deref().unwrap_or_default();
    assert!(help.contains("every output of a module needs its own name"), "{help}");
}

#[test]
fn an_output_with_no_declaration_of_its_name_is_still_not_a_value() {
    let analysis = analysis(&[("main.infra", "output first = 1\noutput second = first\n")]);
    assert_eq!(codes(&analysis), ["E0213 `first` is an output, not a value"]);
}

#[test]
fn a_caller_reads_outputs_and_sets_inputs_of_the_same_name() {
    let root = "module server \"./server\" { hostname = \"a\" }\noutput o = server.nope\n";
    let analysis = analysis(&[("main.infra", root), ("server/main.infra", SERVER)]);
    let messages = codes(&analysis);
    assert_eq!(messages, ["E0206 module `server` has no output `nope`"]);
    // The help lists the outputs, whatever the inputs are called.
    let help = analysis.diagnostics[0].help.as_deref().unwrap_or_default();
    assert_eq!(help, "the module's outputs are `fqdn`, `hostname`, `port` and `tag`");
}
