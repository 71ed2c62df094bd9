//! The data sources: `digitalocean.regions`, `digitalocean.sizes` (each one paged list)
//! and `digitalocean.image` (one image, by slug or by name).

use infra_provider_kit::json::{from_json, json_strings};
use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;
use serde_json::Value as Json;

use super::client::Client;
use super::{flag, text};

/// The fields of `item` named in `names`, as an object.
fn object_of(item: &Json, names: &[&str]) -> Value {
    Value::object(names.iter().map(|name| (name.to_string(), from_json(&item[*name]))).collect())
}

fn slugs_of(items: &[Json]) -> Value {
    Value::list(items.iter().map(|item| from_json(&item["slug"])).collect())
}

/// Every region (only those available, unless `available = false`), sorted by slug.
pub async fn regions(client: &Client, config: &Attributes) -> ProviderResult<Attributes> {
    let mut regions = client.list("list the regions", "/v2/regions", "regions").await?;
    if flag(config, "available").unwrap_or(true) {
        regions.retain(|region| region["available"] == true);
    }
    regions.sort_by(|a, b| a["slug"].as_str().cmp(&b["slug"].as_str()));
    let objects = regions.iter().map(|r| object_of(r, &["slug", "name", "available", "sizes", "features"])).collect();
    Ok([
        ("id".to_string(), Value::string("regions")),
        ("available".to_string(), Value::bool(flag(config, "available").unwrap_or(true))),
        ("slugs".to_string(), slugs_of(&regions)),
        ("regions".to_string(), Value::list(objects)),
    ]
    .into())
}

/// Every available size (offered in `region` when it is set), in the API's order.
pub async fn sizes(client: &Client, config: &Attributes) -> ProviderResult<Attributes> {
    let region = text(config, "region");
    let mut sizes = client.list("list the sizes", "/v2/sizes", "sizes").await?;
    sizes.retain(|size| {
        let offered = region.as_ref().is_none_or(|r| json_strings(&size["regions"]).contains(r));
        size["available"] == true && offered
    });
    let fields = ["slug", "memory", "vcpus", "disk", "transfer", "price_monthly", "price_hourly", "regions"];
    let objects = sizes.iter().map(|size| object_of(size, &fields)).collect();
    Ok([
        ("id".to_string(), Value::string(region.as_deref().map_or("sizes".to_string(), |r| format!("sizes-{r}")))),
        ("region".to_string(), region.map_or_else(Value::null, Value::string)),
        ("slugs".to_string(), slugs_of(&sizes)),
        ("sizes".to_string(), Value::list(objects)),
    ]
    .into())
}

/// One image: by `slug` (one request), or by `name` among the distribution images.
pub async fn image(client: &Client, config: &Attributes) -> ProviderResult<Attributes> {
    let image = match (text(config, "slug"), text(config, "name")) {
        (Some(slug), None) => image_by_slug(client, &slug).await?,
        (None, Some(name)) => image_by_name(client, &name).await?,
        _ => {
            return Err(ProviderError::new("`digitalocean.image` needs exactly one of `slug` and `name`")
                .on_attribute("slug")
                .with_help("set `slug = \"debian-12-x64\"`, or `name` to the image's name"))
        }
    };
    let mut attributes: Attributes =
        ["slug", "name", "distribution", "min_disk_size", "size_gigabytes", "type", "public", "description", "status"]
            .iter()
            .map(|name| (name.to_string(), from_json(&image[*name])))
            .collect();
    attributes.insert("id".to_string(), Value::string(image["id"].to_string()));
    attributes.insert("image_id".to_string(), from_json(&image["id"]));
    attributes.insert("regions".to_string(), from_json(&image["regions"]));
    attributes.insert("created_at".to_string(), from_json(&image["created_at"]));
    Ok(attributes)
}

async fn image_by_slug(client: &Client, slug: &str) -> ProviderResult<Json> {
    let plain = slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !plain {
        return Err(ProviderError::new(format!("`{slug}` is not an image slug")).on_attribute("slug"));
    }
    match client.find("read the image", &format!("/v2/images/{slug}")).await? {
        Some(answer) => Ok(answer["image"].clone()),
        None => Err(ProviderError::new(format!("DigitalOcean has no image `{slug}`"))
            .on_attribute("slug")
            .with_help("public images have slugs such as `debian-12-x64` and `ubuntu-24-04-x64`")),
    }
}

async fn image_by_name(client: &Client, name: &str) -> ProviderResult<Json> {
    let images = client.list("list the images", "/v2/images?type=distribution", "images").await?;
    let mut matching: Vec<Json> = images.into_iter().filter(|image| image["name"] == name).collect();
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 => Err(ProviderError::new(format!("DigitalOcean has no distribution image named `{name}`"))
            .on_attribute("name")
            .with_help("use `slug`, or a name such as `12 x64`")),
        n => Err(ProviderError::new(format!("{n} distribution images are named `{name}`"))
            .on_attribute("name")
            .with_help("use `slug` to pick one")),
    }
}
