//! `aws.instance`, `aws.eip`, `aws.key_pair` and the data source `aws.ami`.

use std::collections::BTreeMap;
use std::time::Instant;

use base64::Engine;
use infra_provider_kit::Interrupted;
use infra_runtime::provider::{Attributes, CreateProgress, ProviderResult};
use infra_runtime::Value;

#[cfg(test)]
use super::client::Wait;
use super::client::{AwsError, AwsResult, Client, Service};
use super::ec2::{block_filters, client_token, describe_one, filters, id, p, set_tags, tags_of};
use super::xml::Element;
use super::{attribute, flag, found, strings, tags, tags_value, text, unordered};

fn with(current: &Attributes, values: Vec<(&str, Value)>) -> Attributes {
    let mut attributes = current.clone();
    attributes.extend(values.into_iter().map(|(k, v)| (k.to_string(), v)));
    attributes
}

fn optional(text: Option<&str>) -> Value {
    text.filter(|t| !t.is_empty()).map_or_else(Value::null, Value::string)
}

// --- aws.instance --------------------------------------------------------------------

/// Launches the instance and waits until it runs. `progress` hears of it as soon as
/// `RunInstances` answers with its id, before the wait: a wait that times out or is
/// interrupted (Ctrl-C) leaves it in the state, and the next plan reads it.
///
/// The request carries a `ClientToken` made for this create, the same in each attempt:
/// the client sends `RunInstances` again after a server error or a timeout, which the
/// first attempt may have survived, and EC2 answers a repeated token with the instance
/// the first attempt launched instead of launching a second.
pub async fn instance_create(
    client: &Client,
    planned: &Attributes,
    progress: &CreateProgress,
) -> ProviderResult<Attributes> {
    let mut params = vec![
        p("ImageId", text(planned, "ami").unwrap_or_default()),
        p("InstanceType", text(planned, "instance_type").unwrap_or_default()),
        p("MinCount", "1"),
        p("MaxCount", "1"),
    ];
    let token = client_token();
    params.push(p("ClientToken", &token));
    for (name, param) in [("subnet_id", "SubnetId"), ("key_name", "KeyName")] {
        if let Some(value) = text(planned, name) {
            params.push(p(param, value));
        }
    }
    if let Some(user_data) = text(planned, "user_data") {
        params.push(p("UserData", base64::engine::general_purpose::STANDARD.encode(user_data)));
    }
    for (i, group) in strings(planned, "vpc_security_group_ids").iter().enumerate() {
        params.push(p(format!("SecurityGroupId.{}", i + 1), group));
    }
    for (i, group) in strings(planned, "security_groups").iter().enumerate() {
        params.push(p(format!("SecurityGroup.{}", i + 1), group));
    }
    let tags = tags(planned);
    if !tags.is_empty() {
        params.push(p("TagSpecification.1.ResourceType", "instance"));
        for (i, (key, value)) in tags.iter().enumerate() {
            params.push(p(format!("TagSpecification.1.Tag.{}.Key", i + 1), key));
            params.push(p(format!("TagSpecification.1.Tag.{}.Value", i + 1), value));
        }
    }
    let made = format!(
        "an instance launched with client token `{token}` (`aws ec2 describe-instances --filters \
         Name=client-token,Values={token}`)"
    );
    let answer = client.ec2("RunInstances", &params).await.map_err(|e| e.made(made))?;
    let id = answer.items("instancesSet").next().map(|i| i.text_or_empty("instanceId")).unwrap_or_default();
    progress.exists(super::existing(planned, &id));
    let instance = wait_for(client, &id, "running").await?;
    let Some(instance) = instance else {
        let message = format!("instance {id} disappeared while starting");
        return Err(client.failure(Service::Ec2, "RunInstances", message).into());
    };
    Ok(instance_values(&instance, &with(planned, vec![("id", Value::string(&id))])))
}

/// Polls until the instance is in `state` (or gone, which is `None`), for at most the
/// client's wait timeout, or until the run is interrupted (`Provider::stop`): then it
/// ends at once, saying what the instance was at the last look.
async fn wait_for(client: &Client, id: &str, state: &str) -> ProviderResult<Option<Element>> {
    let start = Instant::now();
    loop {
        let instance = describe_instance(client, id).await?;
        let now = instance.as_ref().and_then(|i| i.at(&["instanceState", "name"])).map(|s| s.text.clone());
        match now {
            None => return Ok(None),
            Some(now) if now == state => return Ok(instance),
            Some(now) if state == "running" && (now == "terminated" || now == "shutting-down") => {
                let reason = instance.as_ref().and_then(|i| i.at(&["stateReason", "message"])).map(|m| m.text.clone());
                let message = format!("instance {id} is {now} instead of running: {}", reason.unwrap_or_default());
                return Err(client.failure(Service::Ec2, "RunInstances", message).into());
            }
            Some(now) if start.elapsed() > client.wait.timeout => {
                let waited = client.wait.timeout.as_secs();
                let message = format!("instance {id} is still {now} after {waited} s, not {state}");
                return Err(client.failure(Service::Ec2, "DescribeInstances", message).into());
            }
            Some(now) => {
                let interrupted = |_| Interrupted::new(format!("instance {id} to be {state}"), now);
                client.stop.sleep(client.wait.interval).await.map_err(interrupted)?;
            }
        }
    }
}

async fn describe_instance(client: &Client, id: &str) -> AwsResult<Option<Element>> {
    let reservations = match client.ec2_describe("DescribeInstances", &[p("InstanceId.1", id)], "reservationSet").await
    {
        Ok(reservations) => reservations,
        Err(error) if error.is_not_found() => return Ok(None),
        Err(error) => return Err(error),
    };
    let instance = reservations
        .iter()
        .flat_map(|r| r.items("instancesSet"))
        .find(|i| i.text_of("instanceId") == Some(id))
        .cloned();
    Ok(instance)
}

fn instance_values(instance: &Element, current: &Attributes) -> Attributes {
    let groups: Vec<String> = instance.items("groupSet").map(|g| g.text_or_empty("groupId")).collect();
    with(
        current,
        vec![
            ("ami", Value::string(instance.text_or_empty("imageId"))),
            ("instance_type", Value::string(instance.text_or_empty("instanceType"))),
            ("subnet_id", optional(instance.text_of("subnetId"))),
            ("key_name", optional(instance.text_of("keyName"))),
            ("vpc_security_group_ids", unordered(&groups, attribute(current, "vpc_security_group_ids"))),
            ("availability_zone", optional(instance.at(&["placement", "availabilityZone"]).map(|z| z.text.as_str()))),
            ("private_ip", optional(instance.text_of("privateIpAddress"))),
            ("public_ip", optional(instance.text_of("ipAddress"))),
            ("private_dns", optional(instance.text_of("privateDnsName"))),
            ("public_dns", optional(instance.text_of("dnsName"))),
            ("state", optional(instance.at(&["instanceState", "name"]).map(|s| s.text.as_str()))),
            ("tags", tags_value(tags_of(instance), attribute(current, "tags"))),
        ],
    )
}

/// A terminated instance is gone: EC2 keeps describing it for a while, but it can never
/// run again, so the next plan creates a new one.
pub async fn instance_read(client: &Client, current: &Attributes) -> AwsResult<Option<Attributes>> {
    let Some(instance) = describe_instance(client, &id(current)).await? else { return Ok(None) };
    let state = instance.at(&["instanceState", "name"]).map(|s| s.text.as_str());
    if matches!(state, Some("terminated" | "shutting-down")) {
        return Ok(None);
    }
    let mut values = instance_values(&instance, current);
    if attribute(current, "user_data").is_null() {
        // EC2 reports user data only when asked; ask when the state has none, as after an
        // import, so a configuration with the same script plans no change.
        let params = [p("InstanceId", id(current)), p("Attribute", "userData")];
        let answer = match client.ec2("DescribeInstanceAttribute", &params).await {
            Ok(answer) => answer,
            Err(error) if error.is_not_found() => return Ok(None),
            Err(error) => return Err(error),
        };
        let encoded = answer.at(&["userData", "value"]).map(|v| v.text.trim()).unwrap_or_default();
        let decoded =
            base64::engine::general_purpose::STANDARD.decode(encoded).ok().and_then(|b| String::from_utf8(b).ok());
        values.insert("user_data".to_string(), optional(decoded.as_deref()));
    }
    Ok(Some(values))
}

pub async fn instance_update(client: &Client, prior: &Attributes, planned: &Attributes) -> AwsResult<Attributes> {
    let id = id(prior);
    let groups = strings(planned, "vpc_security_group_ids");
    let mut before = strings(prior, "vpc_security_group_ids");
    let mut after = groups.clone();
    before.sort();
    after.sort();
    if !groups.is_empty() && before != after {
        let mut params = vec![p("InstanceId", &id)];
        params.extend(groups.iter().enumerate().map(|(i, g)| p(format!("GroupId.{}", i + 1), g)));
        client.ec2("ModifyInstanceAttribute", &params).await?;
    }
    set_tags(client, &id, &tags(prior), &tags(planned)).await?;
    let state = with(planned, vec![("id", Value::string(&id))]);
    found(instance_read(client, &state).await?, client, "ModifyInstanceAttribute")
}

/// Terminates the instance and waits until it is `terminated`. A wait the run's
/// interruption ends leaves it in the state (the delete failed); the next plan reads a
/// `shutting-down` instance as gone.
pub async fn instance_delete(client: &Client, current: &Attributes) -> ProviderResult<()> {
    let id = id(current);
    match client.ec2("TerminateInstances", &[p("InstanceId.1", &id)]).await {
        Err(error) if error.is_not_found() => return Ok(()),
        Err(error) => return Err(error.into()),
        Ok(_) => {}
    }
    wait_for(client, &id, "terminated").await.map(drop)
}

// --- aws.eip -------------------------------------------------------------------------

pub async fn eip_create(client: &Client, planned: &Attributes, progress: &CreateProgress) -> AwsResult<Attributes> {
    let domain = text(planned, "domain").unwrap_or_else(|| "vpc".to_string());
    let made = format!("an Elastic IP of domain `{domain}` associated with no instance");
    let answer = client.ec2("AllocateAddress", &[p("Domain", &domain)]).await.map_err(|e| e.made(made))?;
    let id = answer.text_or_empty("allocationId");
    progress.exists(super::existing(planned, &id));
    if let Some(instance) = text(planned, "instance") {
        client.ec2("AssociateAddress", &[p("AllocationId", &id), p("InstanceId", instance)]).await?;
    }
    set_tags(client, &id, &BTreeMap::new(), &tags(planned)).await?;
    found(eip_read(client, &with(planned, vec![("id", Value::string(&id))])).await?, client, "AllocateAddress")
}

pub async fn eip_read(client: &Client, current: &Attributes) -> AwsResult<Option<Attributes>> {
    let Some(address) = describe_one(client, "DescribeAddresses", "AllocationId", &id(current), "addressesSet").await?
    else {
        return Ok(None);
    };
    Ok(Some(with(
        current,
        vec![
            ("instance", optional(address.text_of("instanceId"))),
            ("domain", Value::string(address.text_or_empty("domain"))),
            ("public_ip", optional(address.text_of("publicIp"))),
            ("private_ip", optional(address.text_of("privateIpAddress"))),
            ("association_id", optional(address.text_of("associationId"))),
            ("tags", tags_value(tags_of(&address), attribute(current, "tags"))),
        ],
    )))
}

pub async fn eip_update(client: &Client, prior: &Attributes, planned: &Attributes) -> AwsResult<Attributes> {
    let id = id(prior);
    if text(prior, "instance") != text(planned, "instance") {
        if let Some(association) = text(prior, "association_id") {
            ignore_not_found(client.ec2("DisassociateAddress", &[p("AssociationId", association)]).await)?;
        }
        if let Some(instance) = text(planned, "instance") {
            client.ec2("AssociateAddress", &[p("AllocationId", &id), p("InstanceId", instance)]).await?;
        }
    }
    set_tags(client, &id, &tags(prior), &tags(planned)).await?;
    found(eip_read(client, &with(planned, vec![("id", Value::string(&id))])).await?, client, "AssociateAddress")
}

pub async fn eip_delete(client: &Client, current: &Attributes) -> AwsResult<()> {
    if let Some(association) = text(current, "association_id") {
        ignore_not_found(client.ec2("DisassociateAddress", &[p("AssociationId", association)]).await)?;
    }
    ignore_not_found(client.ec2("ReleaseAddress", &[p("AllocationId", id(current))]).await)
}

fn ignore_not_found<T>(result: AwsResult<T>) -> AwsResult<()> {
    match result {
        Err(error) if !error.is_not_found() => Err(error),
        _ => Ok(()),
    }
}

// --- aws.key_pair --------------------------------------------------------------------

/// Imports the key. `ImportKeyPair` is sent again after a server error or a lost answer:
/// a key pair's name is unique, so a repeat cannot make a second one, and when an earlier
/// attempt made it, the repeat is refused as a duplicate name; the key pair of that name
/// is then taken when it holds this configuration's public key, which only the earlier
/// attempt can have put there. (Refused so on the first attempt, the name was taken
/// before: an error.)
pub async fn key_pair_create(client: &Client, planned: &Attributes) -> AwsResult<Attributes> {
    let name = text(planned, "key_name").unwrap_or_default();
    let public_key = text(planned, "public_key").unwrap_or_default();
    let material = base64::engine::general_purpose::STANDARD.encode(&public_key);
    let made = || format!("a key pair named `{name}`");
    let key_pair_id = match client.ec2("ImportKeyPair", &[p("KeyName", &name), p("PublicKeyMaterial", material)]).await
    {
        Ok(answer) => answer.text_or_empty("keyPairId"),
        Err(error) if error.code == "InvalidKeyPair.Duplicate" && error.earlier_attempt_processed => {
            imported_earlier(client, &name, &public_key, error).await.map_err(|e| e.made(made()))?
        }
        Err(error) => return Err(error.made(made())),
    };
    if !key_pair_id.is_empty() {
        set_tags(client, &key_pair_id, &BTreeMap::new(), &tags(planned)).await?;
    }
    found(key_pair_read(client, &with(planned, vec![("id", Value::string(&name))])).await?, client, "ImportKeyPair")
}

/// The id of the key pair `name` an earlier attempt of its `ImportKeyPair` made, told by
/// its public key being `public_key`; otherwise `duplicate`, the repeat's refusal, as the
/// error it is (the name was taken by another key).
async fn imported_earlier(client: &Client, name: &str, public_key: &str, duplicate: AwsError) -> AwsResult<String> {
    let params = [p("KeyName.1", name), p("IncludePublicKey", "true")];
    let keys = client.ec2_describe("DescribeKeyPairs", &params, "keySet").await?;
    let key = keys.into_iter().find(|k| k.text_of("keyName") == Some(name));
    match key {
        Some(key) if same_public_key(key.text_of("publicKey").unwrap_or_default(), public_key) => {
            Ok(key.text_or_empty("keyPairId"))
        }
        _ => Err(AwsError { earlier_attempt_processed: false, ..duplicate }),
    }
}

/// Whether two OpenSSH public keys are the same key: the same type and key data, whatever
/// their comments (EC2 may give the key back with another).
fn same_public_key(one: &str, other: &str) -> bool {
    let key = |text: &str| text.split_whitespace().take(2).map(str::to_string).collect::<Vec<_>>();
    let (one, other) = (key(one), key(other));
    one.len() == 2 && one == other
}

/// The public key stays as the state has it; when the state has none (after an import),
/// it is asked for (`IncludePublicKey`), so the configuration's key is no change.
pub async fn key_pair_read(client: &Client, current: &Attributes) -> AwsResult<Option<Attributes>> {
    let name = id(current);
    let ask_key = attribute(current, "public_key").is_null();
    let mut params = vec![p("KeyName.1", &name)];
    if ask_key {
        params.push(p("IncludePublicKey", "true"));
    }
    let key = match client.ec2_describe("DescribeKeyPairs", &params, "keySet").await {
        Ok(keys) => keys.into_iter().next(),
        Err(error) if error.is_not_found() => None,
        Err(error) => return Err(error),
    };
    let Some(key) = key else { return Ok(None) };
    let mut values = vec![
        ("key_name", Value::string(key.text_or_empty("keyName"))),
        ("fingerprint", Value::string(key.text_or_empty("keyFingerprint"))),
        ("key_pair_id", optional(key.text_of("keyPairId"))),
        ("tags", tags_value(tags_of(&key), attribute(current, "tags"))),
    ];
    if ask_key {
        values.push(("public_key", optional(key.text_of("publicKey").map(str::trim))));
    }
    Ok(Some(with(current, values)))
}

pub async fn key_pair_update(client: &Client, prior: &Attributes, planned: &Attributes) -> AwsResult<Attributes> {
    let key_pair_id = text(prior, "key_pair_id").unwrap_or_default();
    set_tags(client, &key_pair_id, &tags(prior), &tags(planned)).await?;
    let state = with(planned, vec![("id", Value::string(id(prior)))]);
    found(key_pair_read(client, &state).await?, client, "CreateTags")
}

pub async fn key_pair_delete(client: &Client, current: &Attributes) -> AwsResult<()> {
    ignore_not_found(client.ec2("DeleteKeyPair", &[p("KeyName", id(current))]).await)
}

// --- data aws.ami --------------------------------------------------------------------

/// The one image matching `owners` and the `filter` blocks; with `most_recent`, the
/// newest of several.
pub async fn ami(client: &Client, config: &Attributes) -> AwsResult<Attributes> {
    let mut params = filters(&block_filters(config));
    for (i, owner) in strings(config, "owners").iter().enumerate() {
        params.push(p(format!("Owner.{}", i + 1), owner));
    }
    let mut images = client.ec2_describe("DescribeImages", &params, "imagesSet").await?;
    // Newest first; images made in the same second go by name, so the choice is stable.
    images.sort_by_key(|i| std::cmp::Reverse((i.text_or_empty("creationDate"), i.text_or_empty("name"))));
    let most_recent = flag(config, "most_recent").unwrap_or(false);
    let image = match images.len() {
        0 => None,
        1 => images.first(),
        _ if most_recent => images.first(),
        n => {
            let message = format!("{n} images match; narrow the filters or set `most_recent = true`");
            return Err(AwsError { code: String::new(), ..client.failure(Service::Ec2, "DescribeImages", message) });
        }
    };
    let Some(image) = image else {
        return Err(client.failure(Service::Ec2, "DescribeImages", "no image matches the owners and filters"));
    };
    Ok(with(
        config,
        vec![
            ("id", Value::string(image.text_or_empty("imageId"))),
            ("image_id", Value::string(image.text_or_empty("imageId"))),
            ("name", Value::string(image.text_or_empty("name"))),
            ("owner_id", Value::string(image.text_or_empty("imageOwnerId"))),
            ("architecture", Value::string(image.text_or_empty("architecture"))),
            ("creation_date", Value::string(image.text_or_empty("creationDate"))),
            ("description", optional(image.text_of("description"))),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use infra_runtime::provider::ProviderError;

    use super::super::client::canned::{canned_client, canned_server, ec2_error, sent};
    use super::*;

    const PENDING: &str = "<DescribeInstancesResponse><reservationSet><item><instancesSet><item>\
        <instanceId>i-1</instanceId><instanceState><name>pending</name></instanceState>\
        </item></instancesSet></item></reservationSet></DescribeInstancesResponse>";

    #[test]
    fn an_instance_that_does_not_start_in_time_is_an_error() {
        let (endpoint, server) = canned_server(vec![(200, PENDING.to_string()); 2]);
        let mut client = canned_client(&endpoint, 1);
        client.wait = Wait { timeout: Duration::from_millis(1), interval: Duration::from_millis(5) };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let error = runtime.block_on(wait_for(&client, "i-1", "running")).expect_err("times out");
        assert_eq!(error.message, "EC2 DescribeInstances: instance i-1 is still pending after 0 s, not running");
        drop(server);
    }

    /// A `RunInstances` sent again after a server error carries the same `ClientToken`
    /// as the first attempt, so EC2 launches one instance however many attempts reach it;
    /// another create gets another token.
    #[test]
    fn a_retried_launch_carries_the_same_client_token() {
        let failed = "<Response><Errors><Error><Code>InternalError</Code><Message>try later</Message></Error>\
                      </Errors></Response>"
            .to_string();
        let launched = "<RunInstancesResponse><instancesSet><item><instanceId>i-1</instanceId></item>\
                        </instancesSet></RunInstancesResponse>"
            .to_string();
        let running = PENDING.replace("pending", "running");
        let answers =
            vec![(500, failed), (200, launched.clone()), (200, running.clone()), (200, launched), (200, running)];
        let (endpoint, server) = canned_server(answers);
        let client = canned_client(&endpoint, 3);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let planned: Attributes =
            [("ami", Value::string("ami-1")), ("instance_type", Value::string("t3.micro"))].into_iter().collect();
        for _ in 0..2 {
            let made = runtime.block_on(instance_create(&client, &planned, &CreateProgress::ignored()));
            assert_eq!(made.expect("launched").get("id").and_then(Value::as_str), Some("i-1"));
        }
        let requests = server.join().expect("served");
        let token = |request: &String| {
            let body = request.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
            body.split('&').find_map(|pair| pair.strip_prefix("ClientToken=").map(str::to_string))
        };
        let launches: Vec<Option<String>> =
            requests.iter().filter(|r| r.contains("Action=RunInstances")).map(token).collect();
        assert_eq!(launches.len(), 3, "{requests:#?}");
        assert!(launches[0].as_ref().is_some_and(|t| t.starts_with("infra-") && t.len() <= 64), "{launches:?}");
        assert_eq!(launches[0], launches[1], "the retry carries the first attempt's token");
        assert_ne!(launches[1], launches[2], "another create, another token");
    }

    /// A launch whose every attempt failed with a server error may have launched an
    /// instance (one, thanks to its token): the error names the token to look it up by and
    /// is not retried by the engine, whose retry would send another token.
    #[test]
    fn a_launch_that_keeps_failing_names_its_client_token() {
        let (endpoint, server) = canned_server(vec![(500, ec2_error("InternalError")); 3]);
        let client = canned_client(&endpoint, 3);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let planned: Attributes =
            [("ami", Value::string("ami-1")), ("instance_type", Value::string("t3.micro"))].into_iter().collect();
        let launched = runtime.block_on(instance_create(&client, &planned, &CreateProgress::ignored()));
        let error = launched.expect_err("failed");
        let requests = server.join().expect("served");
        assert_eq!(requests.len(), 3);
        let token = sent(&requests[0], "ClientToken").expect("a token");
        assert!(
            error.message.starts_with(&format!(
                "EC2 RunInstances may have made an instance launched with client token `{token}`"
            )),
            "{error:?}"
        );
        assert!(error.message.contains("(500 `InternalError`: try later)"), "{error:?}");
        assert!(!error.message.contains("not sent again"), "it was: {error:?}");
        assert!(error.help.as_deref().unwrap_or_default().contains("infra import"), "{error:?}");
        assert!(!error.retryable);
    }

    const PUBLIC_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKxm deploy@laptop";

    fn key_pairs(public_key: &str) -> String {
        format!(
            "<DescribeKeyPairsResponse><keySet><item><keyPairId>key-1</keyPairId><keyName>deploy</keyName>\
             <keyFingerprint>fp</keyFingerprint><publicKey>{public_key}</publicKey></item></keySet>\
             </DescribeKeyPairsResponse>"
        )
    }

    /// Regression: `ImportKeyPair` sent again after a server error that EC2 had processed
    /// is refused as a duplicate name, and the create failed, leaving the key pair it made
    /// out of the state. The key pair of that name is taken when it holds the
    /// configuration's key; holding another key, it is someone else's, and an error.
    #[test]
    fn regression_a_key_pair_imported_by_an_attempt_that_failed_is_taken_when_it_holds_the_key() {
        let planned: Attributes =
            [("key_name", Value::string("deploy")), ("public_key", Value::string(PUBLIC_KEY))].into_iter().collect();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let stored = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKxm deploy";
        let answers = vec![
            (500, ec2_error("InternalError")),
            (400, ec2_error("InvalidKeyPair.Duplicate")),
            (200, key_pairs(stored)),
            (200, key_pairs(stored)),
        ];
        let (endpoint, server) = canned_server(answers);
        let made = runtime.block_on(key_pair_create(&canned_client(&endpoint, 3), &planned)).expect("taken");
        assert_eq!(made.get("key_pair_id").and_then(Value::as_str), Some("key-1"));
        let requests = server.join().expect("served");
        assert_eq!(requests.iter().filter(|r| r.contains("Action=ImportKeyPair")).count(), 2);
        assert!(requests[2].contains("IncludePublicKey=true"), "{}", requests[2]);

        let other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther deploy";
        let answers = vec![
            (500, ec2_error("InternalError")),
            (400, ec2_error("InvalidKeyPair.Duplicate")),
            (200, key_pairs(other)),
        ];
        let (endpoint, server) = canned_server(answers);
        let error = runtime.block_on(key_pair_create(&canned_client(&endpoint, 3), &planned)).expect_err("not ours");
        assert_eq!(server.join().expect("served").len(), 3);
        let error = ProviderError::from(error);
        assert_eq!(error.message, "EC2 ImportKeyPair failed with AWS error `InvalidKeyPair.Duplicate`: try later");

        let (endpoint, server) = canned_server(vec![(400, ec2_error("InvalidKeyPair.Duplicate"))]);
        let error =
            runtime.block_on(key_pair_create(&canned_client(&endpoint, 3), &planned)).expect_err("taken before");
        assert_eq!(error.code, "InvalidKeyPair.Duplicate");
        assert_eq!(server.join().expect("served").len(), 1, "nothing is looked up on a first refusal");
    }

    /// Ctrl-C (`Provider::stop`) ends a wait for an instance that stays `pending` after
    /// the look in flight, without waiting out the interval, saying what it saw.
    #[test]
    fn a_wait_for_an_instance_ends_at_once_when_the_run_is_interrupted() {
        let (endpoint, server) = canned_server(vec![(200, PENDING.to_string())]);
        let mut client = canned_client(&endpoint, 1);
        client.wait = Wait { timeout: Duration::from_secs(3600), interval: Duration::from_secs(3600) };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let started = Instant::now();
        let (waited, ()) = runtime.block_on(async {
            let stopping = async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                client.stop.stop();
            };
            tokio::join!(wait_for(&client, "i-1", "running"), stopping)
        });
        let error = waited.expect_err("interrupted");
        assert_eq!(
            error.message,
            "interrupted while waiting for instance i-1 to be running (it was pending); it is recorded, and the next \
             plan reads it"
        );
        assert!(!error.retryable);
        assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
        assert_eq!(server.join().expect("served").len(), 1, "one look, then the stop");
    }
}
