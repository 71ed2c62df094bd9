//! `aws.route53_zone` and `aws.route53_record`, over Route 53's REST API.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use infra_runtime::provider::{Attributes, CreateProgress};
use infra_runtime::Value;
use percent_encoding::utf8_percent_encode;

use super::client::{AwsError, AwsResult, Client, UNRESERVED};
use super::xml::{escape, Element};
use super::{attribute, flag, number, strings, tags, tags_value, text, unordered};

const NAMESPACE: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

fn with(current: &Attributes, values: Vec<(&str, Value)>) -> Attributes {
    let mut attributes = current.clone();
    attributes.extend(values.into_iter().map(|(k, v)| (k.to_string(), v)));
    attributes
}

/// A DNS name as the configuration writes it: lower-case, without the final dot.
fn plain_name(name: &str) -> String {
    name.trim_end_matches('.').to_lowercase()
}

/// The zone id without the `/hostedzone/` prefix Route 53 puts before it.
fn bare_zone_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_string()
}

// --- aws.route53_zone ----------------------------------------------------------------

/// Creates the zone. Its `CallerReference` is made for this create and kept across the
/// client's attempts: Route 53 refuses a repeat of a request it carried out with
/// `HostedZoneAlreadyExists`, and after an attempt that may have been processed, the zone
/// holding this reference is the one this create made. (Refused so on the first attempt,
/// it is an error: the reference is new, and the zone is not this create's.)
pub async fn zone_create(client: &Client, planned: &Attributes, progress: &CreateProgress) -> AwsResult<Attributes> {
    let name = text(planned, "name").unwrap_or_default();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let reference = format!("infra-{nanos}");
    let comment = text(planned, "comment").unwrap_or_default();
    let body = format!(
        "<CreateHostedZoneRequest xmlns=\"{NAMESPACE}\"><Name>{}</Name><CallerReference>{reference}</CallerReference>\
         <HostedZoneConfig><Comment>{}</Comment></HostedZoneConfig></CreateHostedZoneRequest>",
        escape(&name),
        escape(&comment)
    );
    let made = || format!("a hosted zone named `{name}` with caller reference `{reference}`");
    let id = match client.route53("CreateHostedZone", "POST", "/hostedzone", Some(body)).await {
        Ok(answer) => bare_zone_id(answer.at(&["HostedZone", "Id"]).map(|e| e.text.as_str()).unwrap_or_default()),
        Err(error) if error.code == "HostedZoneAlreadyExists" && error.earlier_attempt_processed => {
            // Not found (or not listed): the error says to look for it.
            match zone_with_reference(client, &name, &reference).await {
                Ok(Some(id)) => id,
                _ => return Err(error.made(made())),
            }
        }
        Err(error) => return Err(error.made(made())),
    };
    progress.exists(super::existing(planned, &id));
    let state = with(planned, vec![("id", Value::string(&id))]);
    change_zone_tags(client, &id, &BTreeMap::new(), &tags(planned)).await?;
    super::found(zone_read(client, &state).await?, client, "CreateHostedZone")
}

/// The id of the zone named `name` (plain) whose caller reference is `reference`, from
/// `ListHostedZonesByName`, which lists zones in name order from `name` on.
async fn zone_with_reference(client: &Client, name: &str, reference: &str) -> AwsResult<Option<String>> {
    let wanted = plain_name(name);
    let mut next = (format!("{wanted}."), None::<String>);
    loop {
        let mut path = format!("/hostedzonesbyname?dnsname={}", utf8_percent_encode(&next.0, UNRESERVED));
        if let Some(zone) = &next.1 {
            path.push_str(&format!("&hostedzoneid={}", utf8_percent_encode(zone, UNRESERVED)));
        }
        let answer = client.route53("ListHostedZonesByName", "GET", &path, None).await?;
        let zones: Vec<&Element> =
            answer.child("HostedZones").map(|z| z.all("HostedZone").collect()).unwrap_or_default();
        let ours = zones.iter().find(|z| {
            plain_name(&z.text_or_empty("Name")) == wanted && z.text_of("CallerReference") == Some(reference)
        });
        if let Some(zone) = ours {
            return Ok(Some(bare_zone_id(&zone.text_or_empty("Id"))));
        }
        // Past the zones of this name (the list is in name order), or at the end.
        let beyond = zones.iter().any(|z| plain_name(&z.text_or_empty("Name")) != wanted);
        match (answer.text_of("IsTruncated"), answer.text_of("NextDNSName"), answer.text_of("NextHostedZoneId")) {
            (Some("true"), Some(dns), Some(zone)) if !beyond => next = (dns.to_string(), Some(zone.to_string())),
            _ => return Ok(None),
        }
    }
}

async fn change_zone_tags(
    client: &Client,
    id: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> AwsResult<()> {
    let added: String = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| format!("<Tag><Key>{}</Key><Value>{}</Value></Tag>", escape(k), escape(v)))
        .collect();
    let removed: String =
        old.keys().filter(|k| !new.contains_key(*k)).map(|k| format!("<Key>{}</Key>", escape(k))).collect();
    if added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    let mut body = format!("<ChangeTagsForResourceRequest xmlns=\"{NAMESPACE}\">");
    if !added.is_empty() {
        body.push_str(&format!("<AddTags>{added}</AddTags>"));
    }
    if !removed.is_empty() {
        body.push_str(&format!("<RemoveTagKeys>{removed}</RemoveTagKeys>"));
    }
    body.push_str("</ChangeTagsForResourceRequest>");
    client.route53("ChangeTagsForResource", "POST", &format!("/tags/hostedzone/{id}"), Some(body)).await.map(drop)
}

pub async fn zone_read(client: &Client, current: &Attributes) -> AwsResult<Option<Attributes>> {
    let id = text(current, "id").unwrap_or_default();
    let answer = match client.route53("GetHostedZone", "GET", &format!("/hostedzone/{id}"), None).await {
        Ok(answer) => answer,
        Err(error) if error.is_not_found() => return Ok(None),
        Err(error) => return Err(error),
    };
    let Some(zone) = answer.child("HostedZone") else { return Ok(None) };
    let servers: Vec<String> = answer
        .at(&["DelegationSet", "NameServers"])
        .map(|s| s.all("NameServer").map(|n| n.text.clone()).collect())
        .unwrap_or_default();
    let tags_answer = client.route53("ListTagsForResource", "GET", &format!("/tags/hostedzone/{id}"), None).await?;
    let zone_tags: BTreeMap<String, String> = tags_answer
        .at(&["ResourceTagSet", "Tags"])
        .map(|t| t.all("Tag").map(|t| (t.text_or_empty("Key"), t.text_or_empty("Value"))).collect())
        .unwrap_or_default();
    let comment = zone.at(&["Config", "Comment"]).map(|c| c.text.clone()).unwrap_or_default();
    let comment = if comment.is_empty() && attribute(current, "comment").is_null() {
        Value::null()
    } else {
        Value::string(comment)
    };
    Ok(Some(with(
        current,
        vec![
            ("zone_id", Value::string(&id)),
            ("name", Value::string(plain_name(&zone.text_or_empty("Name")))),
            ("comment", comment),
            ("name_servers", Value::list(servers.into_iter().map(Value::string).collect())),
            ("tags", tags_value(zone_tags, attribute(current, "tags"))),
        ],
    )))
}

pub async fn zone_update(client: &Client, prior: &Attributes, planned: &Attributes) -> AwsResult<Attributes> {
    let id = text(prior, "id").unwrap_or_default();
    if text(prior, "comment") != text(planned, "comment") {
        let body = format!(
            "<UpdateHostedZoneCommentRequest xmlns=\"{NAMESPACE}\"><Comment>{}</Comment></UpdateHostedZoneCommentRequest>",
            escape(&text(planned, "comment").unwrap_or_default())
        );
        client.route53("UpdateHostedZoneComment", "POST", &format!("/hostedzone/{id}"), Some(body)).await?;
    }
    change_zone_tags(client, &id, &tags(prior), &tags(planned)).await?;
    let state = with(planned, vec![("id", Value::string(&id))]);
    super::found(zone_read(client, &state).await?, client, "UpdateHostedZoneComment")
}

/// Deletes the zone; with `force_destroy`, every record in it but its own NS and SOA
/// records first.
pub async fn zone_delete(client: &Client, current: &Attributes) -> AwsResult<()> {
    let id = text(current, "id").unwrap_or_default();
    if flag(current, "force_destroy") == Some(true) {
        let apex = format!("{}.", plain_name(&text(current, "name").unwrap_or_default()));
        for set in record_sets(client, &id).await? {
            let kind = set.text_or_empty("Type");
            let name = set.text_or_empty("Name");
            if name == apex && (kind == "NS" || kind == "SOA") {
                continue;
            }
            change(client, &id, "DELETE", &record_set_xml(&set)).await?;
        }
    }
    match client.route53("DeleteHostedZone", "DELETE", &format!("/hostedzone/{id}"), None).await {
        Err(error) if !error.is_not_found() => Err(error),
        _ => Ok(()),
    }
}

/// Every record set of a zone, following `NextRecordName`/`NextRecordType`.
async fn record_sets(client: &Client, zone: &str) -> AwsResult<Vec<Element>> {
    let mut sets = Vec::new();
    let mut next: Option<(String, String)> = None;
    loop {
        let mut path = format!("/hostedzone/{zone}/rrset");
        if let Some((name, kind)) = &next {
            path.push_str(&format!("?name={}&type={kind}", utf8_percent_encode(name, UNRESERVED)));
        }
        let answer = client.route53("ListResourceRecordSets", "GET", &path, None).await?;
        if let Some(list) = answer.child("ResourceRecordSets") {
            sets.extend(list.all("ResourceRecordSet").cloned());
        }
        next = match (answer.text_of("IsTruncated"), answer.text_of("NextRecordName"), answer.text_of("NextRecordType"))
        {
            (Some("true"), Some(name), Some(kind)) => Some((name.to_string(), kind.to_string())),
            _ => return Ok(sets),
        };
    }
}

/// A record set read back from Route 53, as the XML a change sends.
fn record_set_xml(set: &Element) -> String {
    let values: Vec<String> = set
        .child("ResourceRecords")
        .map(|r| r.all("ResourceRecord").map(|r| r.text_or_empty("Value")).collect())
        .unwrap_or_default();
    let ttl = set.text_of("TTL").and_then(|t| t.parse::<i64>().ok());
    record_xml(&set.text_or_empty("Name"), &set.text_or_empty("Type"), ttl, &values)
}

fn record_xml(name: &str, kind: &str, ttl: Option<i64>, values: &[String]) -> String {
    let ttl = ttl.map(|t| format!("<TTL>{t}</TTL>")).unwrap_or_default();
    let records: String =
        values.iter().map(|v| format!("<ResourceRecord><Value>{}</Value></ResourceRecord>", escape(v))).collect();
    format!(
        "<ResourceRecordSet><Name>{}</Name><Type>{}</Type>{ttl}<ResourceRecords>{records}</ResourceRecords></ResourceRecordSet>",
        escape(name),
        escape(kind)
    )
}

async fn change(client: &Client, zone: &str, action: &str, record_set: &str) -> AwsResult<()> {
    let body = format!(
        "<ChangeResourceRecordSetsRequest xmlns=\"{NAMESPACE}\"><ChangeBatch><Changes><Change>\
         <Action>{action}</Action>{record_set}</Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"
    );
    let path = format!("/hostedzone/{zone}/rrset");
    client.route53("ChangeResourceRecordSets", "POST", &path, Some(body)).await.map(drop)
}

// --- aws.route53_record --------------------------------------------------------------

fn configured_record(attributes: &Attributes) -> (String, String, String, Option<i64>, Vec<String>) {
    let zone = text(attributes, "zone_id").unwrap_or_default();
    let name = plain_name(&text(attributes, "name").unwrap_or_default());
    let kind = text(attributes, "type").unwrap_or_default();
    let ttl = number(attributes, "ttl").map(|t| t as i64);
    (zone, name, kind, ttl, strings(attributes, "records"))
}

async fn put_record(client: &Client, action: &str, attributes: &Attributes) -> AwsResult<Attributes> {
    let (zone, name, kind, ttl, values) = configured_record(attributes);
    change(client, &zone, action, &record_xml(&format!("{name}."), &kind, ttl, &values)).await?;
    let state = with(attributes, vec![("id", Value::string(format!("{zone}_{name}_{kind}")))]);
    super::found(record_read(client, &state).await?, client, "ChangeResourceRecordSets")
}

pub async fn record_create(client: &Client, planned: &Attributes) -> AwsResult<Attributes> {
    put_record(client, "CREATE", planned).await
}

pub async fn record_update(client: &Client, planned: &Attributes) -> AwsResult<Attributes> {
    put_record(client, "UPSERT", planned).await
}

/// The record set named `name` (plain) of type `kind` in `zone` as Route 53 has it; `None`
/// when it or its zone is gone.
async fn find_record_set(client: &Client, zone: &str, name: &str, kind: &str) -> AwsResult<Option<Element>> {
    let path =
        format!("/hostedzone/{zone}/rrset?name={}&type={kind}&maxitems=1", utf8_percent_encode(name, UNRESERVED));
    let answer = match client.route53("ListResourceRecordSets", "GET", &path, None).await {
        Ok(answer) => answer,
        Err(error) if error.is_not_found() => return Ok(None),
        Err(error) => return Err(error),
    };
    let set = answer
        .child("ResourceRecordSets")
        .into_iter()
        .flat_map(|l| l.all("ResourceRecordSet"))
        .find(|s| plain_name(&s.text_or_empty("Name")) == name && s.text_of("Type") == Some(kind));
    Ok(set.cloned())
}

pub async fn record_read(client: &Client, current: &Attributes) -> AwsResult<Option<Attributes>> {
    let (zone, name, kind, _, _) = configured_record(current);
    let Some(set) = find_record_set(client, &zone, &name, &kind).await? else { return Ok(None) };
    let values: Vec<String> = set
        .child("ResourceRecords")
        .map(|r| r.all("ResourceRecord").map(|r| r.text_or_empty("Value")).collect())
        .unwrap_or_default();
    // A record made without a TTL reads back as TTL 0 from some endpoints: still none.
    let ttl = set.text_of("TTL").and_then(|t| t.parse::<f64>().ok());
    let unset = attribute(current, "ttl").is_null() && ttl == Some(0.0);
    let ttl = ttl.filter(|_| !unset).map_or_else(Value::null, Value::number);
    Ok(Some(with(
        current,
        vec![
            ("id", Value::string(format!("{zone}_{name}_{kind}"))),
            ("ttl", ttl),
            ("records", unordered(&values, attribute(current, "records"))),
            ("fqdn", Value::string(&name)),
        ],
    )))
}

/// Deletes the record set as Route 53 has it now: a delete must repeat the stored TTL and
/// values, in the stored order (moto insists on the order), which the state need not
/// hold (its `records` keep the configuration's order). A record set, or zone, already
/// gone is deleted.
pub async fn record_delete(client: &Client, current: &Attributes) -> AwsResult<()> {
    let (zone, name, kind, _, _) = configured_record(current);
    let Some(set) = find_record_set(client, &zone, &name, &kind).await? else { return Ok(()) };
    match change(client, &zone, "DELETE", &record_set_xml(&set)).await {
        Err(error) if error.is_not_found() || is_missing_record_set(&error) => Ok(()),
        other => other,
    }
}

/// Route 53's answer to deleting a record set that is not there (gone since it was read):
/// `InvalidChangeBatch`, "Tried to delete resource record set [...] but it was not found".
fn is_missing_record_set(error: &AwsError) -> bool {
    error.code == "InvalidChangeBatch" && error.message.contains("not found")
}

/// The attributes an imported record starts from: its id is `ZONE_NAME_TYPE`.
pub fn record_seed(id: &str) -> Option<Attributes> {
    let (zone, rest) = id.split_once('_')?;
    let (name, kind) = rest.rsplit_once('_')?;
    let fields = [("zone_id", zone), ("name", name), ("type", kind), ("id", id)];
    Some(fields.into_iter().map(|(k, v)| (k.to_string(), Value::string(v))).collect())
}

#[cfg(test)]
mod tests {
    use infra_runtime::provider::ProviderError;

    use super::super::client::canned::{canned_client, scripted_server, sent};
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    }

    fn error(code: &str) -> String {
        format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>taken</Message></Error></ErrorResponse>")
    }

    fn planned() -> Attributes {
        [("name", Value::string("example.com"))].into_iter().collect()
    }

    /// Regression: `CreateHostedZone` sent again after a lost answer keeps its
    /// `CallerReference`, so Route 53 refuses it with `HostedZoneAlreadyExists`, and the
    /// zone the first attempt made was left out of the state (and made again by the next
    /// apply). The zone of that name holding this create's reference is now taken, not
    /// another zone of the same name.
    #[test]
    fn regression_a_zone_made_by_an_attempt_whose_answer_was_lost_is_taken() {
        let script = |served: &[String]| {
            let reference = sent(&served[0], "CallerReference").unwrap_or_default();
            let zone = |id: &str, reference: &str| {
                format!(
                    "<HostedZone><Id>/hostedzone/{id}</Id><Name>example.com.</Name><CallerReference>{reference}\
                     </CallerReference><Config><Comment></Comment></Config></HostedZone>"
                )
            };
            match served.len() {
                1 => None,
                2 => Some((400, error("HostedZoneAlreadyExists"))),
                3 => Some((
                    200,
                    format!(
                        "<ListHostedZonesByNameResponse><HostedZones>{}{}</HostedZones><IsTruncated>false</IsTruncated>\
                         </ListHostedZonesByNameResponse>",
                        zone("ZOTHER", "someone-else"),
                        zone("ZOURS", &reference)
                    ),
                )),
                4 => Some((
                    200,
                    format!(
                        "<GetHostedZoneResponse>{}<DelegationSet><NameServers><NameServer>ns-1.example</NameServer>\
                         </NameServers></DelegationSet></GetHostedZoneResponse>",
                        zone("ZOURS", &reference)
                    ),
                )),
                _ => Some((
                    200,
                    "<ListTagsForResourceResponse><ResourceTagSet><Tags/></ResourceTagSet></ListTagsForResourceResponse>"
                        .to_string(),
                )),
            }
        };
        let (endpoint, server) = scripted_server(5, script);
        let client = canned_client(&endpoint, 3);
        let made = runtime().block_on(zone_create(&client, &planned(), &CreateProgress::ignored())).expect("taken");
        assert_eq!(made.get("zone_id").and_then(Value::as_str), Some("ZOURS"));
        let requests = server.join().expect("served");
        assert_eq!(requests.len(), 5, "{requests:#?}");
        let references: Vec<Option<String>> = requests[..2].iter().map(|r| sent(r, "CallerReference")).collect();
        assert!(references[0].as_ref().is_some_and(|r| r.starts_with("infra-")), "{references:?}");
        assert_eq!(references[0], references[1], "the retry keeps the reference");
        assert!(requests[2].starts_with("GET /2013-04-01/hostedzonesbyname?dnsname=example.com."), "{}", requests[2]);
    }

    /// `HostedZoneAlreadyExists` answering the first attempt is an error: nothing of this
    /// create's was processed before, so no zone is taken.
    #[test]
    fn a_zone_refused_on_the_first_attempt_is_an_error() {
        let (endpoint, server) = scripted_server(1, |_| Some((400, error("HostedZoneAlreadyExists"))));
        let client = canned_client(&endpoint, 3);
        let created = runtime().block_on(zone_create(&client, &planned(), &CreateProgress::ignored()));
        let error = ProviderError::from(created.expect_err("refused"));
        assert_eq!(error.message, "Route 53 CreateHostedZone failed with AWS error `HostedZoneAlreadyExists`: taken");
        assert_eq!(server.join().expect("served").len(), 1);
    }
}
