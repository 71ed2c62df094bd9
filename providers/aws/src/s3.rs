//! `aws.s3_bucket` and `aws.s3_object`, over the S3 REST API (path-style addressing,
//! which both AWS and emulators accept).

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use infra_runtime::provider::{Attributes, CreateProgress};
use infra_runtime::Value;
use md5::{Digest, Md5};
use percent_encoding::utf8_percent_encode;

use super::client::{AwsError, AwsResult, Client, Service, UNRESERVED};
use super::xml::{self, Element};
use super::{attribute, flag, tags, tags_value, text};

/// The content type of an object whose configuration does not say.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

fn bucket_path(bucket: &str) -> String {
    format!("/{}", utf8_percent_encode(bucket, UNRESERVED))
}

fn with(current: &Attributes, values: Vec<(&str, Value)>) -> Attributes {
    let mut attributes = current.clone();
    attributes.extend(values.into_iter().map(|(k, v)| (k.to_string(), v)));
    attributes
}

fn gone<T>(result: AwsResult<T>) -> AwsResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

// --- aws.s3_bucket -------------------------------------------------------------------

pub async fn bucket_create(client: &Client, planned: &Attributes, progress: &CreateProgress) -> AwsResult<Attributes> {
    let bucket = text(planned, "bucket").unwrap_or_default();
    // us-east-1 is the one region that takes no location constraint.
    let body = if client.region == "us-east-1" {
        // It is also the one region whose `CreateBucket` succeeds for a bucket the account
        // already owns (elsewhere: `BucketAlreadyOwnedByYou`): asked first, so that a
        // bucket Infra did not make is never taken over (its tags replaced, and deleted
        // by a destroy).
        if client.s3("HeadBucket", "HEAD", &bucket_path(&bucket), &[], Vec::new()).await.is_ok() {
            let message = format!(
                "the bucket `{bucket}` already exists and this account owns it (in us-east-1 S3 answers its create as \
                 if it made it)"
            );
            let code = "BucketAlreadyOwnedByYou".to_string();
            return Err(AwsError { code, status: 409, ..client.failure(Service::S3, "CreateBucket", message) });
        }
        Vec::new()
    } else {
        format!(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
            xml::escape(&client.region)
        )
        .into_bytes()
    };
    // A repeat of a create AWS carried out is refused as `BucketAlreadyOwnedByYou` (outside
    // us-east-1; there it succeeds): after an attempt that may have been processed, that
    // is the bucket this create made. On the first attempt, it was made before: an error.
    match client.s3("CreateBucket", "PUT", &bucket_path(&bucket), &[], body).await {
        Err(error) if error.code == "BucketAlreadyOwnedByYou" && error.earlier_attempt_processed => {}
        Err(error) => return Err(error.made(format!("the bucket `{bucket}`"))),
        Ok(_) => {}
    }
    progress.exists(super::existing(planned, &bucket));
    put_bucket_tags(client, &bucket, &tags(planned)).await?;
    let state = with(planned, vec![("id", Value::string(&bucket))]);
    super::found(bucket_read(client, &state).await?, client, "CreateBucket")
}

async fn put_bucket_tags(client: &Client, bucket: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
    let path = format!("{}?tagging", bucket_path(bucket));
    if tags.is_empty() {
        return client.s3("DeleteBucketTagging", "DELETE", &path, &[], Vec::new()).await.map(drop);
    }
    let tag_xml: String = tags
        .iter()
        .map(|(k, v)| format!("<Tag><Key>{}</Key><Value>{}</Value></Tag>", xml::escape(k), xml::escape(v)))
        .collect();
    let body =
        format!("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>{tag_xml}</TagSet></Tagging>");
    // S3 insists on an integrity checksum for tagging.
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(body.as_bytes()));
    let headers = [("content-md5", md5), ("content-type", "application/xml".to_string())];
    client.s3("PutBucketTagging", "PUT", &path, &headers, body.into_bytes()).await.map(drop)
}

pub async fn bucket_read(client: &Client, current: &Attributes) -> AwsResult<Option<Attributes>> {
    let bucket = text(current, "id").unwrap_or_default();
    let Some(head) = gone(client.s3("HeadBucket", "HEAD", &bucket_path(&bucket), &[], Vec::new()).await)? else {
        return Ok(None);
    };
    let path = format!("{}?tagging", bucket_path(&bucket));
    let tags = match client.s3("GetBucketTagging", "GET", &path, &[], Vec::new()).await {
        Ok(answer) => tag_set(&answer.xml().unwrap_or_default()),
        Err(error) if error.code == "NoSuchTagSet" || error.is_not_found() => BTreeMap::new(),
        Err(error) => return Err(error),
    };
    let region = head.header("x-amz-bucket-region").unwrap_or_else(|| client.region.clone());
    Ok(Some(with(
        current,
        vec![
            ("bucket", Value::string(&bucket)),
            ("arn", Value::string(format!("arn:aws:s3:::{bucket}"))),
            ("bucket_domain_name", Value::string(format!("{bucket}.s3.amazonaws.com"))),
            ("region", Value::string(region)),
            ("tags", tags_value(tags, attribute(current, "tags"))),
        ],
    )))
}

fn tag_set(document: &Element) -> BTreeMap<String, String> {
    let Some(set) = document.find("TagSet") else { return BTreeMap::new() };
    set.all("Tag").map(|t| (t.text_or_empty("Key"), t.text_or_empty("Value"))).collect()
}

pub async fn bucket_update(client: &Client, prior: &Attributes, planned: &Attributes) -> AwsResult<Attributes> {
    let bucket = text(prior, "id").unwrap_or_default();
    if tags(prior) != tags(planned) {
        put_bucket_tags(client, &bucket, &tags(planned)).await?;
    }
    let state = with(planned, vec![("id", Value::string(&bucket))]);
    super::found(bucket_read(client, &state).await?, client, "PutBucketTagging")
}

/// Deletes the bucket; with `force_destroy`, every object in it first. A key no path
/// can carry (see [`key_problem`]; other tools can make them) is deleted by naming it in
/// a `DeleteObjects` body: as a path, `../other/x` would delete another bucket's object.
pub async fn bucket_delete(client: &Client, current: &Attributes) -> AwsResult<()> {
    let bucket = text(current, "id").unwrap_or_default();
    if flag(current, "force_destroy") == Some(true) {
        let (unaddressable, keys): (Vec<String>, Vec<String>) =
            list_keys(client, &bucket).await?.into_iter().partition(|key| key_problem(key).is_some());
        for key in keys {
            delete_object(client, &bucket, &key).await?;
        }
        for batch in unaddressable.chunks(1000) {
            delete_objects(client, &bucket, batch).await?;
        }
    }
    // A bucket that still holds objects is `BucketNotEmpty`, whose help names `force_destroy`.
    gone(client.s3("DeleteBucket", "DELETE", &bucket_path(&bucket), &[], Vec::new()).await).map(drop)
}

/// Deletes up to 1000 `keys` in one `DeleteObjects` request, which names them in its body.
async fn delete_objects(client: &Client, bucket: &str, keys: &[String]) -> AwsResult<()> {
    let objects: String = keys.iter().map(|k| format!("<Object><Key>{}</Key></Object>", xml::escape(k))).collect();
    let body =
        format!("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>{objects}</Delete>");
    // S3 insists on an integrity checksum here too.
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(body.as_bytes()));
    let headers = [("content-md5", md5), ("content-type", "application/xml".to_string())];
    let path = format!("{}?delete", bucket_path(bucket));
    let answer = client.s3("DeleteObjects", "POST", &path, &headers, body.into_bytes()).await?;
    let document = answer.xml().map_err(|e| client.failure(Service::S3, "DeleteObjects", e))?;
    // Quiet: the answer lists only the keys that could not be deleted.
    let failed = document.child("DeleteResult").and_then(|result| result.all("Error").next());
    let Some(failed) = failed else { return Ok(()) };
    let message = format!("cannot delete `{}`: {}", failed.text_or_empty("Key"), failed.text_or_empty("Message"));
    let code = failed.text_or_empty("Code");
    Err(AwsError { code, status: answer.status, ..client.failure(Service::S3, "DeleteObjects", message) })
}

/// Every key in a bucket, following `ListObjectsV2` continuation tokens.
pub async fn list_keys(client: &Client, bucket: &str) -> AwsResult<Vec<String>> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut path = format!("{}?list-type=2", bucket_path(bucket));
        if let Some(token) = &token {
            path.push_str(&format!("&continuation-token={}", utf8_percent_encode(token, UNRESERVED)));
        }
        let answer = client.s3("ListObjectsV2", "GET", &path, &[], Vec::new()).await?;
        let document = answer.xml().map_err(|e| client.failure(Service::S3, "ListObjectsV2", e))?;
        let Some(result) = document.child("ListBucketResult") else { return Ok(keys) };
        keys.extend(result.all("Contents").map(|c| c.text_or_empty("Key")));
        token = result.text_of("NextContinuationToken").filter(|t| !t.is_empty()).map(str::to_string);
        if result.text_of("IsTruncated") != Some("true") || token.is_none() {
            return Ok(keys);
        }
    }
}

// --- aws.s3_object -------------------------------------------------------------------

/// What the schema says an object's `key` takes, beyond its length.
pub const KEY_FORM: &str =
    "a key whose segments between slashes are not `.` or `..` (a URL path resolves them: `a/b/../c` is `a/c`)";

/// The same rule as [`key_problem`], as a pattern for the schema's validator, so
/// `infra check` refuses a key written in the source: every segment between slashes is
/// empty, holds a character other than a dot, or is three dots or more.
pub const KEY_PATTERN: &str = r"^(?:|[^/]*[^./][^/]*|\.{3,})(?:/(?:|[^/]*[^./][^/]*|\.{3,}))*$";

/// Why `key` cannot be an object's key, if it cannot. A key is sent as the path of the
/// request (`/bucket/key`), and URLs (reqwest follows the WHATWG URL standard) resolve
/// `.` and `..` segments before sending: `a/b/../c` would write `a/c`, and `../other/x`
/// another bucket's object. Percent-encoding does not help (`%2e` is a dot there too),
/// so such keys are refused. A key holding `%2e` itself is fine: its `%` is encoded.
pub fn key_problem(key: &str) -> Option<String> {
    let segment = key.split('/').find(|segment| matches!(*segment, "." | ".."))?;
    Some(format!("the key `{key}` has a `{segment}` segment, which S3 requests cannot carry"))
}

/// The help for a key [`key_problem`] refuses.
pub const KEY_HELP: &str = "an object's key is sent as a URL path, where `.` and `..` segments are resolved \
                            (`a/b/../c` becomes `a/c`); write the key without them";

/// The object's body: `content`, or the file `source` (relative to the root module's directory).
pub fn body(module_dir: &Path, attributes: &Attributes) -> Result<Option<Vec<u8>>, String> {
    // An empty `content` is an empty object, not a missing one.
    let content = attributes.get("content").filter(|v| v.is_known()).and_then(Value::as_str);
    if let Some(content) = content {
        return Ok(Some(content.as_bytes().to_vec()));
    }
    let Some(source) = text(attributes, "source") else { return Ok(None) };
    std::fs::read(module_dir.join(&source)).map(Some).map_err(|e| format!("cannot read `{source}`: {e}"))
}

/// The ETag S3 gives an object uploaded in one part: the MD5 of its body, in hex.
pub fn etag(body: &[u8]) -> String {
    hex::encode(Md5::digest(body))
}

/// Uploads `body`, the object's [`body`], read by the caller.
pub async fn object_put(client: &Client, planned: &Attributes, body: Vec<u8>) -> AwsResult<Attributes> {
    let bucket = text(planned, "bucket").unwrap_or_default();
    let key = text(planned, "key").unwrap_or_default();
    let content_type = text(planned, "content_type").unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string());
    let headers = [("content-type", content_type)];
    client.s3("PutObject", "PUT", &client.s3_path(&bucket, &key), &headers, body).await?;
    let state = with(planned, vec![("id", Value::string(format!("{bucket}/{key}")))]);
    super::found(object_read(client, &state).await?, client, "PutObject")
}

/// The object's `etag` as S3 has it: when someone changed the object, it no longer
/// matches the configuration's, and the next plan uploads it again.
pub async fn object_read(client: &Client, current: &Attributes) -> AwsResult<Option<Attributes>> {
    let bucket = text(current, "bucket").unwrap_or_default();
    let key = text(current, "key").unwrap_or_default();
    let path = client.s3_path(&bucket, &key);
    let Some(head) = gone(client.s3("HeadObject", "HEAD", &path, &[], Vec::new()).await)? else { return Ok(None) };
    let etag = head.header("etag").unwrap_or_default().trim_matches('"').to_string();
    let content_type = head.header("content-type").unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string());
    Ok(Some(with(
        current,
        vec![
            ("id", Value::string(format!("{bucket}/{key}"))),
            ("etag", Value::string(etag)),
            ("content_type", Value::string(content_type)),
            ("version_id", head.header("x-amz-version-id").map_or_else(Value::null, Value::string)),
        ],
    )))
}

pub async fn object_delete(client: &Client, current: &Attributes) -> AwsResult<()> {
    let bucket = text(current, "bucket").unwrap_or_default();
    delete_object(client, &bucket, &text(current, "key").unwrap_or_default()).await
}

async fn delete_object(client: &Client, bucket: &str, key: &str) -> AwsResult<()> {
    gone(client.s3("DeleteObject", "DELETE", &client.s3_path(bucket, key), &[], Vec::new()).await).map(drop)
}

#[cfg(test)]
mod tests {
    use infra_compiler::schema::validate::Subject;
    use infra_compiler::schema::Validator;

    use infra_runtime::provider::{Attributes, CreateProgress, ProviderError};
    use infra_runtime::Value;

    use super::super::client::canned::{canned_client, canned_server};
    use super::{bucket_create, key_problem, KEY_FORM, KEY_PATTERN};

    /// `infra check` (the schema's pattern) and the plan ([`key_problem`]) refuse the
    /// same keys.
    #[test]
    fn the_key_pattern_and_key_problem_agree() {
        let validator = Validator::Regex { pattern: KEY_PATTERN.to_string(), description: KEY_FORM.to_string() };
        let refused = ["..", ".", "a/..", "a/.", "./a", "../a", "a/./b", "a/b/../c", "a//../b", "a/../"];
        let accepted = ["a", "a/b", "...", "a/.../b", ".a", "a.", "..a/b", "a/b..", "a/%2e%2e/b", "a//b", "/a", "a/"];
        for key in refused {
            assert!(key_problem(key).is_some(), "{key}");
            assert!(validator.check("key", Subject::Text(key), false).is_err(), "{key}");
        }
        for key in accepted.into_iter().chain(["line\nbreak/x", "ü/ß"]) {
            assert_eq!(key_problem(key), None, "{key}");
            assert_eq!(validator.check("key", Subject::Text(key), false), Ok(()), "{key}");
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    }

    fn error(code: &str) -> String {
        format!("<Error><Code>{code}</Code><Message>about the bucket</Message></Error>")
    }

    fn planned() -> Attributes {
        [("bucket", Value::string("assets"))].into_iter().collect()
    }

    /// Regression: outside us-east-1, `CreateBucket` sent again after a server error that
    /// S3 had processed is refused with `BucketAlreadyOwnedByYou`, and the create failed,
    /// leaving the bucket it made out of the state. That answer after a processed attempt
    /// is the bucket this create made; on a first attempt it stays an error.
    #[test]
    fn regression_a_bucket_made_by_an_attempt_that_failed_is_taken() {
        let answers = vec![
            (500, error("InternalError")),
            (409, error("BucketAlreadyOwnedByYou")),
            (204, String::new()),
            (200, String::new()),
            (404, error("NoSuchTagSet")),
        ];
        let (endpoint, server) = canned_server(answers);
        let mut client = canned_client(&endpoint, 3);
        client.region = "eu-west-1".to_string();
        let made = runtime().block_on(bucket_create(&client, &planned(), &CreateProgress::ignored()));
        assert_eq!(made.expect("taken").get("id").and_then(Value::as_str), Some("assets"));
        let requests = server.join().expect("served");
        let creates = requests.iter().filter(|r| r.starts_with("PUT /assets HTTP")).count();
        assert_eq!(creates, 2, "{requests:#?}");

        let (endpoint, server) = canned_server(vec![(409, error("BucketAlreadyOwnedByYou"))]);
        let mut client = canned_client(&endpoint, 3);
        client.region = "eu-west-1".to_string();
        let created = runtime().block_on(bucket_create(&client, &planned(), &CreateProgress::ignored()));
        let error = ProviderError::from(created.expect_err("made before"));
        assert!(error.message.contains("`BucketAlreadyOwnedByYou`"), "{error:?}");
        assert!(error.help.as_deref().unwrap_or_default().contains("infra import"), "{error:?}");
        assert_eq!(server.join().expect("served").len(), 1);
    }
}
