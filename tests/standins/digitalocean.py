#!/usr/bin/env python3
"""A stand-in for the DigitalOcean API v2, for tests only.

No real server plays the DigitalOcean API on a test machine (DigitalOcean has no
emulator), so this small stateful server was written here for Infra's tests. It always
runs behind Stoplight Prism in proxy mode (`cli/tests/support/prism.rs`), which validates
every request the provider sends and every response this server returns against
DigitalOcean's official OpenAPI description: what this server answers must be valid
there, and it models only the part of the API the `digitalocean` provider uses
(docs/providers/digitalocean.md lists what it leaves out).

Usage: digitalocean.py PORT TOKEN. Requests need `Authorization: Bearer TOKEN` (else 401).

What it simulates besides plain state:
- a Droplet is `new` for the first two GETs that see it, then `active`;
- a Droplet action is `in-progress` for the first GET of `/v2/actions/ID`, then
  `completed`, and takes effect when it is made; `resize` needs the Droplet off
  (`power_off`) and never shrinks its disk, `power_off` of one already off (and
  `power_on` of one already on) is a 422, as DigitalOcean answers; `enable_ipv6` gives
  the Droplet its public IPv6 address (there is no action that takes it away);
- a volume action (`attach`, `detach`, `resize`) completes the same way; an attached
  volume cannot be deleted;
- a VPC without `ip_range` gets a /24 of 10.100.0.0/14;
- lists are paged (`page`, `per_page`) with `links.pages.next`, never more than
  `max_page_size` a page;
- throttling: the next N requests are answered 429 with a `Retry-After` header;
- server errors: the next N requests are answered with a 5xx status (500 or 503).

Test controls, on this server's own port and never through Prism, under `/__standin/`:
`POST throttle {"count": N, "retry_after": SECONDS}`, `POST fail {"count": N, "status":
500}`, `POST page_size {"max": N}`,
`POST stuck {"stuck": true}` (new Droplets never leave `new`), `GET requests` (every
request seen, as "METHOD PATH" lines, controls excluded).
"""

import json
import re
import sys
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()
STATE = {
    "next_id": 3000,
    "droplets": {},
    "actions": {},
    "ssh_keys": {},
    "domains": {},
    "records": {},
    "firewalls": {},
    "tags": {},
    "vpcs": {},
    "volumes": {},
    "reserved_ips": {},
    "throttle": {"count": 0, "retry_after": 1},
    "fail": {"count": 0, "status": 500},
    "max_page_size": 200,
    "stuck": False,
    "requests": [],
}

SIZES = [
    {"slug": slug, "memory": memory, "vcpus": vcpus, "disk": disk, "transfer": transfer,
     "price_monthly": monthly, "price_hourly": round(monthly / 730, 5), "available": True,
     "regions": ["ams3", "fra1", "lon1", "nyc1", "nyc3", "sfo3", "sgp1", "tor1"],
     "description": "Basic"}
    for slug, memory, vcpus, disk, transfer, monthly in [
        ("s-1vcpu-512mb-10gb", 512, 1, 10, 0.5, 4.0), ("s-1vcpu-1gb", 1024, 1, 25, 1.0, 6.0),
        ("s-1vcpu-2gb", 2048, 1, 50, 2.0, 12.0), ("s-2vcpu-2gb", 2048, 2, 60, 3.0, 18.0),
        ("s-2vcpu-4gb", 4096, 2, 80, 4.0, 24.0),
    ]
]

REGIONS = [
    {"slug": slug, "name": name, "available": True, "sizes": [s["slug"] for s in SIZES],
     "features": ["backups", "ipv6", "metadata", "install_agent", "storage"]}
    for slug, name in [
        ("ams3", "Amsterdam 3"), ("fra1", "Frankfurt 1"), ("lon1", "London 1"), ("nyc1", "New York 1"),
        ("nyc3", "New York 3"), ("sfo3", "San Francisco 3"), ("sgp1", "Singapore 1"), ("tor1", "Toronto 1"),
    ]
]

IMAGES = [
    {"id": image_id, "name": name, "slug": slug, "distribution": distribution, "public": True,
     "regions": ["ams3", "fra1", "lon1", "nyc1", "nyc3", "sfo3", "sgp1", "tor1"], "type": "base",
     "min_disk_size": 15, "size_gigabytes": 2.1, "status": "available", "tags": [],
     "created_at": "2024-06-10T00:00:00Z", "description": f"{name}, as DigitalOcean ships it"}
    for image_id, name, slug, distribution in [
        (150000001, "12 x64", "debian-12-x64", "Debian"), (150000002, "24.04 (LTS) x64", "ubuntu-24-04-x64", "Ubuntu"),
        (150000003, "22.04 (LTS) x64", "ubuntu-22-04-x64", "Ubuntu"),
    ]
]


def image_get(identifier):
    for image in IMAGES:
        if identifier in (image["slug"], str(image["id"])):
            return 200, {"image": image}
    raise Failure(404, "The resource you were accessing could not be found.")


# GETs a new Droplet takes to become `active`, and an action to complete.
SETTLE_GETS = 2


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id():
    STATE["next_id"] += 1
    return STATE["next_id"]


class Failure(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


ERROR_IDS = {400: "bad_request", 401: "unauthorized", 404: "not_found", 422: "unprocessable_entity",
             429: "too_many_requests", 500: "server_error", 503: "service_unavailable"}


def need(body, *names):
    for name in names:
        if body.get(name) in (None, ""):
            raise Failure(422, f"{name} is required")


def find(collection, object_id):
    found = STATE[collection].get(str(object_id))
    if found is None:
        raise Failure(404, "The resource you were accessing could not be found.")
    return found


def deleted(collection, object_id):
    find(collection, object_id)
    del STATE[collection][str(object_id)]
    return 204, None


def public(document):
    """A stored object without its private fields (`_...`)."""
    if isinstance(document, dict):
        return {k: public(v) for k, v in document.items() if not k.startswith("_")}
    if isinstance(document, list):
        return [public(v) for v in document]
    return document


def listed(key, items, query, path):
    """One page of `items` as `{key: [...], links, meta}`."""
    per_page = min(int(query.get("per_page", ["20"])[0]), STATE["max_page_size"])
    page = int(query.get("page", ["1"])[0])
    start = (page - 1) * per_page
    document = {key: public(items[start:start + per_page]), "links": {}, "meta": {"total": len(items)}}
    if start + per_page < len(items):
        next_page = f"https://api.digitalocean.com{path}?page={page + 1}&per_page={per_page}"
        document["links"] = {"pages": {"next": next_page}}
    return 200, document


# --- Droplets --------------------------------------------------------------------------

def settle(droplet):
    """One GET's worth of progress for a new Droplet."""
    if droplet["status"] != "new" or STATE["stuck"]:
        return
    droplet["_gets"] -= 1
    if droplet["_gets"] < 0:
        droplet["status"] = "active"


def droplet_create(body):
    need(body, "name", "size", "image")
    size = next((s for s in SIZES if s["slug"] == body["size"]), None)
    if size is None:
        raise Failure(422, "You specified an invalid size for Droplet creation.")
    region_slug = body.get("region") or "nyc3"
    region = next((r for r in REGIONS if r["slug"] == region_slug), None)
    if region is None:
        raise Failure(422, "You specified an invalid region for Droplet creation.")
    image = next((i for i in IMAGES if body["image"] in (i["slug"], i["id"])), None)
    if image is None:
        raise Failure(422, "You specified an invalid image for Droplet creation.")
    for key in body.get("ssh_keys") or []:
        if not any(key in (k["id"], k["fingerprint"]) for k in STATE["ssh_keys"].values()):
            raise Failure(422, f"{key} is not a valid SSH key of this account.")
    if body.get("vpc_uuid") and body["vpc_uuid"] not in STATE["vpcs"]:
        raise Failure(422, "The VPC does not exist.")
    droplet_id = new_id()
    features = ["private_networking"] + [f for f in ("backups", "ipv6", "monitoring") if body.get(f)]
    droplet = {
        "id": droplet_id, "name": body["name"], "memory": size["memory"], "vcpus": size["vcpus"],
        "disk": size["disk"], "locked": False, "status": "new", "_gets": SETTLE_GETS - 1,
        "created_at": now(), "features": features, "backup_ids": [], "snapshot_ids": [], "volume_ids": [],
        "next_backup_window": None, "kernel": None, "image": image, "size": size, "size_slug": size["slug"],
        "region": region, "tags": sorted(set(body.get("tags") or [])),
        "vpc_uuid": body.get("vpc_uuid") or str(uuid.uuid5(uuid.NAMESPACE_DNS, f"default-vpc.{region_slug}")),
        "networks": {
            "v4": [
                {"ip_address": f"10.10.{droplet_id // 250 % 250}.{droplet_id % 250 + 2}", "netmask": "255.255.0.0",
                 "gateway": "10.10.0.1", "type": "private"},
                {"ip_address": f"192.0.2.{droplet_id % 250 + 1}", "netmask": "255.255.255.0",
                 "gateway": "192.0.2.254", "type": "public"},
            ],
            "v6": ipv6_networks(droplet_id) if body.get("ipv6") else [],
        },
        "_user_data": body.get("user_data"),
    }
    for tag in droplet["tags"]:
        STATE["tags"].setdefault(tag, {"name": tag})
    STATE["droplets"][str(droplet_id)] = droplet
    action = action_create(droplet_id, "create")
    links = {"actions": [{"id": action["id"], "rel": "create", "href": f"https://api.digitalocean.com/v2/actions/{action['id']}"}]}
    return 202, {"droplet": public(droplet), "links": links}


def ipv6_networks(droplet_id):
    return [{"ip_address": f"2001:db8::{droplet_id:x}", "netmask": 64, "gateway": "2001:db8::1", "type": "public"}]


def droplet_get(droplet_id):
    droplet = find("droplets", droplet_id)
    settle(droplet)
    return 200, {"droplet": public(droplet)}


def action_create(resource_id, action_type, resource_type="droplet"):
    action_id = new_id()
    action = {"id": action_id, "status": "in-progress", "type": action_type, "started_at": now(),
              "completed_at": None, "resource_id": resource_id if resource_type == "droplet" else None,
              "resource_type": resource_type, "region_slug": "nyc3", "_gets": SETTLE_GETS - 1}
    STATE["actions"][str(action_id)] = action
    return action


def action_get(action_id):
    action = find("actions", action_id)
    if action["status"] == "in-progress":
        action["_gets"] -= 1
        if action["_gets"] < 0:
            action["status"], action["completed_at"] = "completed", now()
    return 200, {"action": public(action)}


def droplet_action(droplet_id, body):
    droplet = find("droplets", droplet_id)
    need(body, "type")
    kind = body["type"]
    if kind == "rename":
        need(body, "name")
        droplet["name"] = body["name"]
    elif kind in ("enable_backups", "disable_backups"):
        features = [f for f in droplet["features"] if f != "backups"]
        droplet["features"] = features + (["backups"] if kind == "enable_backups" else [])
    elif kind in ("power_off", "shutdown"):
        if droplet["status"] == "off":
            raise Failure(422, "Droplet is already powered off.")
        droplet["status"] = "off"
    elif kind == "power_on":
        if droplet["status"] == "active":
            raise Failure(422, "Droplet is already powered on.")
        droplet["status"] = "active"
    elif kind == "resize":
        droplet_resize(droplet, body)
    elif kind == "enable_ipv6":
        if "ipv6" not in droplet["features"]:
            droplet["features"].append("ipv6")
            droplet["networks"]["v6"] = ipv6_networks(droplet["id"])
    else:
        raise Failure(422, f"the stand-in does not model the `{kind}` action")
    return 201, {"action": public(action_create(int(droplet_id), kind))}


def droplet_resize(droplet, body):
    """The `resize` action: only on a Droplet that is off; `disk` (false when left out)
    grows the disk to the size's, and a size with a smaller disk than the Droplet's is
    refused, since a disk never shrinks."""
    need(body, "size")
    size = next((s for s in SIZES if s["slug"] == body["size"]), None)
    if size is None:
        raise Failure(422, "You specified an invalid size for Droplet resize.")
    if droplet["status"] != "off":
        raise Failure(422, "Droplet is currently on. Please power it off to run this event.")
    if size["disk"] < droplet["disk"]:
        raise Failure(422, "This size is not available because it has a smaller disk.")
    droplet.update(size=size, size_slug=size["slug"], memory=size["memory"], vcpus=size["vcpus"])
    if body.get("disk"):
        droplet["disk"] = size["disk"]


def droplet_actions(droplet_id, query, path):
    find("droplets", droplet_id)
    actions = [a for a in STATE["actions"].values()
               if a["resource_type"] == "droplet" and a["resource_id"] == int(droplet_id)]
    return listed("actions", actions, query, path)


def tag_resources(tag, body, add):
    if add:
        STATE["tags"].setdefault(tag, {"name": tag})
    else:
        find("tags", tag)
    for resource in body.get("resources") or []:
        collection = {"droplet": "droplets", "volume": "volumes"}.get(resource.get("resource_type"))
        if collection is None:
            raise Failure(422, "the stand-in tags Droplets and volumes only")
        tagged = find(collection, resource["resource_id"])
        tags = set(tagged["tags"])
        tags = tags | {tag} if add else tags - {tag}
        tagged["tags"] = sorted(tags)
    return 204, None


def tag_create(body):
    need(body, "name")
    tag = STATE["tags"].setdefault(body["name"], {"name": body["name"]})
    return 201, {"tag": tag}


# --- SSH keys, domains, records --------------------------------------------------------

def ssh_key_create(body):
    need(body, "name", "public_key")
    parts = body["public_key"].split()
    if len(parts) < 2 or not parts[0].startswith(("ssh-", "ecdsa-")):
        raise Failure(422, "Key invalid type, we support 'ssh-rsa', 'ssh-ed25519' and 'ecdsa-sha2' keys.")
    if any(k["public_key"] == body["public_key"] for k in STATE["ssh_keys"].values()):
        raise Failure(422, "SSH Key is already in use on your account")
    key_id = new_id()
    digest = uuid.uuid5(uuid.NAMESPACE_OID, parts[1]).hex[:32]
    fingerprint = ":".join(digest[i:i + 2] for i in range(0, 32, 2))
    key = {"id": key_id, "name": body["name"], "public_key": body["public_key"], "fingerprint": fingerprint}
    STATE["ssh_keys"][str(key_id)] = key
    return 201, {"ssh_key": key}


def ssh_key_find(identifier):
    for key in STATE["ssh_keys"].values():
        if identifier in (str(key["id"]), key["fingerprint"]):
            return key
    raise Failure(404, "The resource you were accessing could not be found.")


def ssh_key_update(identifier, body):
    key = ssh_key_find(identifier)
    if "name" in body:
        key["name"] = body["name"]
    return 200, {"ssh_key": key}


def ssh_key_delete(identifier):
    key = ssh_key_find(identifier)
    del STATE["ssh_keys"][str(key["id"])]
    return 204, None


def domain_create(body):
    need(body, "name")
    name = body["name"].lower()
    if name in STATE["domains"]:
        raise Failure(422, "Name already exists")
    domain = {"name": name, "ttl": 1800, "zone_file": ""}
    STATE["domains"][name] = domain
    for record_type, data in [("NS", "ns1.digitalocean.com"), ("NS", "ns2.digitalocean.com"),
                              ("NS", "ns3.digitalocean.com")]:
        record_store(name, {"type": record_type, "name": "@", "data": data, "ttl": 1800})
    if body.get("ip_address"):
        record_store(name, {"type": "A", "name": "@", "data": body["ip_address"], "ttl": 1800})
    return 201, {"domain": domain}


def domain_delete(name):
    find("domains", name)
    del STATE["domains"][name]
    for record_id in [i for i, r in STATE["records"].items() if r["_domain"] == name]:
        del STATE["records"][record_id]
    return 204, None


RECORD_FIELDS = ("type", "name", "data", "priority", "port", "ttl", "weight", "flags", "tag")


def record_store(domain, body):
    record_id = new_id()
    record = {field: body.get(field) for field in RECORD_FIELDS}
    record.update({"id": record_id, "_domain": domain, "ttl": body.get("ttl") or 1800})
    STATE["records"][str(record_id)] = record
    return record


def record_create(domain, body):
    find("domains", domain)
    need(body, "type", "data")
    if body["type"] not in ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "SOA", "SRV", "TXT"):
        raise Failure(422, f"{body['type']} is not a record type")
    return 201, {"domain_record": record_store(domain, body)}


def domain_record(domain, record_id):
    find("domains", domain)
    record = find("records", record_id)
    if record["_domain"] != domain:
        raise Failure(404, "The resource you were accessing could not be found.")
    return record


def record_update(domain, record_id, body):
    record = domain_record(domain, record_id)
    for field in RECORD_FIELDS:
        if field in body:
            record[field] = body[field]
    return 200, {"domain_record": record}


def record_delete(domain, record_id):
    domain_record(domain, record_id)
    del STATE["records"][record_id]
    return 204, None


# --- firewalls -------------------------------------------------------------------------

def firewall_fields(body):
    need(body, "name")
    if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9.-]+", body["name"]):
        raise Failure(400, "name is invalid")
    for droplet_id in body.get("droplet_ids") or []:
        find("droplets", droplet_id)
    rules = {}
    for key, parties in (("inbound_rules", "sources"), ("outbound_rules", "destinations")):
        rules[key] = [{"protocol": r["protocol"], "ports": r.get("ports") or "0",
                       parties: {k: v for k, v in r.get(parties, {}).items() if v}}
                      for r in body.get(key) or []]
    return {"name": body["name"], "droplet_ids": sorted(body.get("droplet_ids") or []),
            "tags": sorted(set(body.get("tags") or [])), **rules}


def firewall_create(body):
    firewall = {"id": str(uuid.uuid4()), "status": "succeeded", "created_at": now(), "pending_changes": [],
                **firewall_fields(body)}
    STATE["firewalls"][firewall["id"]] = firewall
    return 202, {"firewall": firewall}


def firewall_update(firewall_id, body):
    firewall = find("firewalls", firewall_id)
    firewall.update(firewall_fields(body))
    return 200, {"firewall": firewall}


# --- VPCs ------------------------------------------------------------------------------

def vpc_create(body):
    need(body, "name", "region")
    if not any(r["slug"] == body["region"] for r in REGIONS):
        raise Failure(422, "You specified an invalid region for the VPC.")
    if any(v["name"] == body["name"] for v in STATE["vpcs"].values()):
        raise Failure(422, "A VPC with this name already exists.")
    count = new_id()
    vpc_id = str(uuid.uuid4())
    vpc = {"id": vpc_id, "urn": f"do:vpc:{vpc_id}", "name": body["name"], "region": body["region"],
           "description": body.get("description") or "", "default": False, "created_at": now(),
           "ip_range": body.get("ip_range") or f"10.{100 + count // 250 % 150}.{count % 250}.0/24"}
    STATE["vpcs"][vpc_id] = vpc
    return 201, {"vpc": vpc}


def vpc_update(vpc_id, body):
    vpc = find("vpcs", vpc_id)
    for name in ("name", "description"):
        if name in body:
            vpc[name] = body[name]
    return 200, {"vpc": vpc}


# --- volumes ---------------------------------------------------------------------------

def volume_create(body):
    need(body, "name", "region", "size_gigabytes")
    region = next((r for r in REGIONS if r["slug"] == body["region"]), None)
    if region is None:
        raise Failure(422, "You specified an invalid region for the volume.")
    volume_id = str(uuid.uuid4())
    volume = {"id": volume_id, "name": body["name"], "region": region, "size_gigabytes": body["size_gigabytes"],
              "description": body.get("description") or "", "droplet_ids": [], "tags": sorted(set(body.get("tags") or [])),
              "filesystem_type": body.get("filesystem_type") or "", "filesystem_label": "", "created_at": now()}
    STATE["volumes"][volume_id] = volume
    return 201, {"volume": volume}


def volume_delete(volume_id):
    if find("volumes", volume_id)["droplet_ids"]:
        raise Failure(422, "Attached volumes cannot be deleted; detach it first.")
    return deleted("volumes", volume_id)


def volume_action(volume_id, body):
    volume = find("volumes", volume_id)
    need(body, "type")
    kind = body["type"]
    if kind in ("attach", "detach"):
        need(body, "droplet_id")
        droplet = find("droplets", body["droplet_id"])
        if droplet["region"]["slug"] != volume["region"]["slug"]:
            raise Failure(422, "The volume and the Droplet are in different regions.")
        ids = set(volume["droplet_ids"])
        ids = ids | {droplet["id"]} if kind == "attach" else ids - {droplet["id"]}
        volume["droplet_ids"] = sorted(ids)
        others = [v for v in droplet["volume_ids"] if v != volume_id]
        droplet["volume_ids"] = others + ([volume_id] if kind == "attach" else [])
    elif kind == "resize":
        need(body, "size_gigabytes")
        if body["size_gigabytes"] < volume["size_gigabytes"]:
            raise Failure(422, "A volume can only grow.")
        volume["size_gigabytes"] = body["size_gigabytes"]
    else:
        raise Failure(422, f"the stand-in does not model the `{kind}` action")
    return 202, {"action": public(action_create(None, kind, "volume"))}


# --- reserved IP addresses -------------------------------------------------------------

def reserved_ip_create(body):
    need(body, "region")
    region = next((r for r in REGIONS if r["slug"] == body["region"]), None)
    if region is None:
        raise Failure(422, "You specified an invalid region for the reserved IP.")
    # A fresh address every time: reusing a released one would let two tests sharing
    # this stand-in address each other's reserved IP.
    number = new_id()
    ip = f"203.0.{113 + number // 250 % 100}.{number % 250 + 1}"
    reserved = {"ip": ip, "region": region, "locked": False, "_droplet": None}
    STATE["reserved_ips"][ip] = reserved
    return 202, {"reserved_ip": reserved_document(reserved), "links": {}}


def reserved_document(reserved):
    droplet = STATE["droplets"].get(str(reserved["_droplet"])) if reserved["_droplet"] else None
    return {**public(reserved), "droplet": public(droplet) if droplet else None}


def reserved_ip_get(ip):
    return 200, {"reserved_ip": reserved_document(find("reserved_ips", ip))}


def reserved_ip_action(ip, body):
    reserved = find("reserved_ips", ip)
    need(body, "type")
    if body["type"] == "assign":
        need(body, "droplet_id")
        droplet = find("droplets", body["droplet_id"])
        if droplet["region"]["slug"] != reserved["region"]["slug"]:
            raise Failure(422, "The reserved IP and the Droplet are in different regions.")
        reserved["_droplet"] = droplet["id"]
    elif body["type"] == "unassign":
        reserved["_droplet"] = None
    else:
        raise Failure(422, f"the stand-in does not model the `{body['type']}` action")
    return 201, {"action": public(action_create(None, body["type"], "reserved_ip"))}


def one(key, collection, object_id):
    return 200, {key: find(collection, object_id)}


ROUTES = [
    ("GET", r"/v2/regions", lambda g, b, q, p: listed("regions", REGIONS, q, p)),
    ("GET", r"/v2/sizes", lambda g, b, q, p: listed("sizes", SIZES, q, p)),
    ("GET", r"/v2/images", lambda g, b, q, p: listed("images", IMAGES, q, p)),
    ("GET", r"/v2/images/([a-z0-9.-]+)", lambda g, b, q, p: image_get(g[0])),
    ("GET", r"/v2/droplets", lambda g, b, q, p: listed(
        "droplets", [d for d in STATE["droplets"].values() if not q.get("tag_name") or q["tag_name"][0] in d["tags"]],
        q, p)),
    ("POST", r"/v2/droplets", lambda g, b, q, p: droplet_create(b)),
    ("GET", r"/v2/droplets/(\d+)", lambda g, b, q, p: droplet_get(g[0])),
    ("DELETE", r"/v2/droplets/(\d+)", lambda g, b, q, p: deleted("droplets", g[0])),
    ("GET", r"/v2/droplets/(\d+)/actions", lambda g, b, q, p: droplet_actions(g[0], q, p)),
    ("POST", r"/v2/droplets/(\d+)/actions", lambda g, b, q, p: droplet_action(g[0], b)),
    ("GET", r"/v2/actions/(\d+)", lambda g, b, q, p: action_get(g[0])),
    ("POST", r"/v2/tags", lambda g, b, q, p: tag_create(b)),
    ("POST", r"/v2/tags/([a-zA-Z0-9_:-]+)/resources", lambda g, b, q, p: tag_resources(g[0], b, True)),
    ("DELETE", r"/v2/tags/([a-zA-Z0-9_:-]+)/resources", lambda g, b, q, p: tag_resources(g[0], b, False)),
    ("GET", r"/v2/account/keys", lambda g, b, q, p: listed("ssh_keys", list(STATE["ssh_keys"].values()), q, p)),
    ("POST", r"/v2/account/keys", lambda g, b, q, p: ssh_key_create(b)),
    ("GET", r"/v2/account/keys/([0-9a-f:]+)", lambda g, b, q, p: (200, {"ssh_key": ssh_key_find(g[0])})),
    ("PUT", r"/v2/account/keys/([0-9a-f:]+)", lambda g, b, q, p: ssh_key_update(g[0], b)),
    ("DELETE", r"/v2/account/keys/([0-9a-f:]+)", lambda g, b, q, p: ssh_key_delete(g[0])),
    ("GET", r"/v2/domains", lambda g, b, q, p: listed("domains", list(STATE["domains"].values()), q, p)),
    ("POST", r"/v2/domains", lambda g, b, q, p: domain_create(b)),
    ("GET", r"/v2/domains/([a-z0-9.-]+)", lambda g, b, q, p: one("domain", "domains", g[0])),
    ("DELETE", r"/v2/domains/([a-z0-9.-]+)", lambda g, b, q, p: domain_delete(g[0])),
    ("GET", r"/v2/domains/([a-z0-9.-]+)/records", lambda g, b, q, p: find("domains", g[0]) and listed(
        "domain_records", [r for r in STATE["records"].values() if r["_domain"] == g[0]], q, p)),
    ("POST", r"/v2/domains/([a-z0-9.-]+)/records", lambda g, b, q, p: record_create(g[0], b)),
    ("GET", r"/v2/domains/([a-z0-9.-]+)/records/(\d+)", lambda g, b, q, p: (
        200, {"domain_record": domain_record(g[0], g[1])})),
    ("PUT", r"/v2/domains/([a-z0-9.-]+)/records/(\d+)", lambda g, b, q, p: record_update(g[0], g[1], b)),
    ("DELETE", r"/v2/domains/([a-z0-9.-]+)/records/(\d+)", lambda g, b, q, p: record_delete(g[0], g[1])),
    ("GET", r"/v2/firewalls", lambda g, b, q, p: listed("firewalls", list(STATE["firewalls"].values()), q, p)),
    ("POST", r"/v2/firewalls", lambda g, b, q, p: firewall_create(b)),
    ("GET", r"/v2/firewalls/([0-9a-f-]+)", lambda g, b, q, p: one("firewall", "firewalls", g[0])),
    ("PUT", r"/v2/firewalls/([0-9a-f-]+)", lambda g, b, q, p: firewall_update(g[0], b)),
    ("DELETE", r"/v2/firewalls/([0-9a-f-]+)", lambda g, b, q, p: deleted("firewalls", g[0])),
    ("GET", r"/v2/volumes", lambda g, b, q, p: listed("volumes", list(STATE["volumes"].values()), q, p)),
    ("POST", r"/v2/volumes", lambda g, b, q, p: volume_create(b)),
    ("GET", r"/v2/volumes/([0-9a-f-]+)", lambda g, b, q, p: one("volume", "volumes", g[0])),
    ("DELETE", r"/v2/volumes/([0-9a-f-]+)", lambda g, b, q, p: volume_delete(g[0])),
    ("POST", r"/v2/volumes/([0-9a-f-]+)/actions", lambda g, b, q, p: volume_action(g[0], b)),
    ("GET", r"/v2/reserved_ips", lambda g, b, q, p: listed(
        "reserved_ips", [reserved_document(r) for r in STATE["reserved_ips"].values()], q, p)),
    ("POST", r"/v2/reserved_ips", lambda g, b, q, p: reserved_ip_create(b)),
    ("GET", r"/v2/reserved_ips/([0-9.]+)", lambda g, b, q, p: reserved_ip_get(g[0])),
    ("DELETE", r"/v2/reserved_ips/([0-9.]+)", lambda g, b, q, p: deleted("reserved_ips", g[0])),
    ("POST", r"/v2/reserved_ips/([0-9.]+)/actions", lambda g, b, q, p: reserved_ip_action(g[0], b)),
    ("GET", r"/v2/vpcs", lambda g, b, q, p: listed("vpcs", list(STATE["vpcs"].values()), q, p)),
    ("POST", r"/v2/vpcs", lambda g, b, q, p: vpc_create(b)),
    ("GET", r"/v2/vpcs/([0-9a-f-]+)", lambda g, b, q, p: one("vpc", "vpcs", g[0])),
    ("PATCH", r"/v2/vpcs/([0-9a-f-]+)", lambda g, b, q, p: vpc_update(g[0], b)),
    ("DELETE", r"/v2/vpcs/([0-9a-f-]+)", lambda g, b, q, p: deleted("vpcs", g[0])),
]


def route(method, path, body, query):
    for route_method, pattern, handler in ROUTES:
        match = re.fullmatch(pattern, path)
        if match and route_method == method:
            status, document = handler(match.groups(), body, query, path)
            return status, public(document) if document is not None else None
    raise Failure(404, "The resource you were accessing could not be found.")


class Handler(BaseHTTPRequestHandler):
    # One request a connection: a kept-alive connection this server closes while Prism
    # reuses it would fail a request at random.
    protocol_version = "HTTP/1.0"
    token = ""

    def log_message(self, *args):
        pass

    def answer(self, status, document, headers=()):
        self.send_response(status)
        for name, value in [("ratelimit-limit", "5000"), ("ratelimit-remaining", "4999"),
                            ("ratelimit-reset", "1700000000"), *headers]:
            self.send_header(name, value)
        if document is None:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = json.dumps(document).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def failure(self, status, message, headers=()):
        self.answer(status, {"id": ERROR_IDS.get(status, "error"), "message": message}, headers)

    def control(self, path, body):
        if path == "/__standin/throttle":
            STATE["throttle"] = {"count": body["count"], "retry_after": body.get("retry_after", 1)}
        elif path == "/__standin/fail":
            STATE["fail"] = {"count": body["count"], "status": body.get("status", 500)}
        elif path == "/__standin/page_size":
            STATE["max_page_size"] = body["max"]
        elif path == "/__standin/stuck":
            STATE["stuck"] = body["stuck"]
        elif path == "/__standin/requests":
            return self.answer(200, STATE["requests"])
        return self.answer(200, {})

    def handle_any(self):
        url = urlparse(self.path)
        path = url.path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self.failure(400, "Invalid JSON")
        with LOCK:
            if path.startswith("/__standin/"):
                return self.control(path, body)
            STATE["requests"].append(f"{self.command} {path}")
            if self.headers.get("Authorization") != f"Bearer {self.token}":
                return self.failure(401, "Unable to authenticate you")
            throttle = STATE["throttle"]
            if throttle["count"] > 0:
                throttle["count"] -= 1
                return self.failure(429, "API Rate limit exceeded.", [("Retry-After", str(throttle["retry_after"]))])
            fail = STATE["fail"]
            if fail["count"] > 0:
                fail["count"] -= 1
                message = "Service unavailable." if fail["status"] == 503 else "Server was unable to give you a response."
                return self.failure(fail["status"], message)
            try:
                status, document = route(self.command, path, body, parse_qs(url.query))
            except Failure as failure:
                return self.failure(failure.status, failure.message)
        return self.answer(status, document)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    port, token = int(sys.argv[1]), sys.argv[2]
    Handler.token = token
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
