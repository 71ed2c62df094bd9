#!/usr/bin/env python3
"""A stand-in for the Linode API v4, for tests only.

No real server plays the Linode API on a test machine (Linode has no emulator), so this
small stateful server was written here for Infra's tests. It always runs behind Stoplight
Prism in proxy mode (`cli/tests/support/prism.rs`), which validates every request the
provider sends and every response this server returns against Linode's official OpenAPI
description: what this server answers must be valid there, and it models only the part
of the API the `linode` provider uses (docs/providers/linode.md lists what it leaves out).

Usage: linode.py PORT TOKEN. Requests need `Authorization: Bearer TOKEN` (else 401).

What it simulates besides plain state:
- an instance is `provisioning` (or `booting`, `shutting_down` after an action) for the
  first two GETs that see it, then `running` (`offline` when created with
  `booted: false` or shut down);
- lists are paged (`page`, `page_size`), never more than `max_page_size` a page;
- a resize (`POST /linode/instances/ID/resize`) is `migrating` for the first two GETs,
  then back to the status it had, with the new type and specs (the type changes only
  then); a type whose disk is smaller than the disk deployed is refused unless
  `allow_auto_disk_resize` (true by default) lets the disk shrink with it;
- a StackScript deployment (`stackscript_id`, `stackscript_data` on create) is checked
  (the script exists, takes the image, gets every field it declares without a default)
  and recorded; the script is never run;
- a create checks everything it names first (a firewall's Linodes, a volume's Linode, a
  StackScript) and stores only then: one that is refused leaves nothing, as Linode's does;
- throttling: the next N requests are answered 429 with a `Retry-After` header;
- server errors: the next N requests are answered with a 5xx status (500 or 503).

Test controls, on this server's own port and never through Prism, under `/__standin/`:
`POST throttle {"count": N, "retry_after": SECONDS}`, `POST fail {"count": N, "status":
500}`, `POST page_size {"max": N}`, `POST settle {"gets": N}` (how long an instance stays
`provisioning`), `GET requests` (every request seen, as "METHOD PATH" lines, controls
excluded), `GET deployments` (every StackScript deployment: `linode_id`,
`stackscript_id`, `stackscript_data`).
"""

import json
import re
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()
STATE = {
    "next_id": 1000,
    "instances": {},
    "sshkeys": {},
    "domains": {},
    "records": {},
    "firewalls": {},
    "devices": {},
    "volumes": {},
    "stackscripts": {},
    "throttle": {"count": 0, "retry_after": 1},
    "fail": {"count": 0, "status": 500},
    "deployments": [],
    "max_page_size": 500,
    # GETs an instance in a passing status takes to reach its lasting status (a test
    # may change it: `POST /__standin/settle`).
    "settle_gets": 2,
    "requests": [],
}

REGIONS = [
    {"id": region, "label": label, "country": country, "status": "ok",
     "capabilities": ["Linodes", "Block Storage", "Cloud Firewall"]}
    for region, label, country in [
        ("us-east", "Newark, NJ", "us"), ("us-central", "Dallas, TX", "us"),
        ("us-west", "Fremont, CA", "us"), ("eu-west", "London, UK", "gb"),
        ("eu-central", "Frankfurt, DE", "de"), ("ap-south", "Singapore, SG", "sg"),
    ]
]

TYPES = [
    {"id": type_id, "label": label, "class": klass, "disk": disk, "memory": memory, "vcpus": vcpus,
     "transfer": transfer, "network_out": 1000 * vcpus, "gpus": 0,
     "price": {"hourly": hourly, "monthly": monthly}}
    for type_id, label, klass, disk, memory, vcpus, transfer, hourly, monthly in [
        ("g6-nanode-1", "Nanode 1GB", "nanode", 25600, 1024, 1, 1000, 0.0075, 5.0),
        ("g6-standard-1", "Linode 2GB", "standard", 51200, 2048, 1, 2000, 0.018, 12.0),
        ("g6-standard-2", "Linode 4GB", "standard", 81920, 4096, 2, 4000, 0.036, 24.0),
        ("g6-standard-4", "Linode 8GB", "standard", 163840, 8192, 4, 5000, 0.072, 48.0),
    ]
]

IMAGES = [
    {"id": image_id, "label": label, "vendor": vendor, "is_public": True, "deprecated": False,
     "size": 2500, "type": "manual", "status": "available", "created_by": "linode",
     "created": "2023-06-12T00:00:00Z", "description": f"{label}, as Linode ships it"}
    for image_id, label, vendor in [
        ("linode/debian11", "Debian 11", "Debian"), ("linode/debian12", "Debian 12", "Debian"),
        ("linode/ubuntu22.04", "Ubuntu 22.04 LTS", "Ubuntu"), ("linode/ubuntu24.04", "Ubuntu 24.04 LTS", "Ubuntu"),
    ]
]


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id():
    STATE["next_id"] += 1
    return STATE["next_id"]


class Failure(Exception):
    def __init__(self, status, reason, field=None):
        super().__init__(reason)
        self.status, self.reason, self.field = status, reason, field


def need(body, *names):
    for name in names:
        if body.get(name) in (None, ""):
            raise Failure(400, f"{name} is required", name)


def find(collection, object_id):
    found = STATE[collection].get(str(object_id))
    if found is None:
        raise Failure(404, "Not found")
    return found


# --- instances -------------------------------------------------------------------------

def settle(instance):
    """One GET's worth of progress for an instance in a passing status: when it ends, the
    status it was heading for and what else changes then (a resize's type)."""
    pending = instance.get("_pending")
    if pending is None:
        return
    if pending["gets"] <= 0:
        instance["status"] = pending["status"]
        instance.update(pending.get("changes", {}))
        del instance["_pending"]
    else:
        pending["gets"] -= 1


def passing(instance, status, then):
    instance["status"] = status
    instance["_pending"] = {"status": then, "gets": STATE["settle_gets"] - 1}


def instance_create(body):
    need(body, "region", "type")
    if body["type"] not in {t["id"] for t in TYPES}:
        raise Failure(400, "A valid plan type by that ID was not found", "type")
    if body["region"] not in {r["id"] for r in REGIONS}:
        raise Failure(400, "region is not valid", "region")
    if body.get("image") and not body.get("root_pass") and not body.get("authorized_keys"):
        raise Failure(400, "root_pass is required when deploying an image", "root_pass")
    # Every check comes before anything is stored or counted: a refused create makes nothing.
    script, deployment = stackscript_deployment(body)
    instance_id = new_id()
    ipv4 = [f"192.0.2.{instance_id % 250 + 1}"]
    if body.get("private_ip"):
        ipv4.append(f"192.168.{instance_id // 250 % 250}.{instance_id % 250 + 1}")
    instance_type = next(t for t in TYPES if t["id"] == body["type"])
    stamp = now()
    instance = {
        "id": instance_id,
        "label": body.get("label") or f"linode{instance_id}",
        "region": body["region"],
        "type": body["type"],
        "image": body.get("image"),
        "group": body.get("group", ""),
        "tags": sorted(body.get("tags", [])),
        "ipv4": ipv4,
        "ipv6": f"2001:db8::{instance_id:x}/128",
        "hypervisor": "kvm",
        "watchdog_enabled": True,
        "created": stamp,
        "updated": stamp,
        "specs": specs(instance_type),
        # The disk deployed from the image, in MB: the whole plan's (Linode's default).
        "_disk": instance_type["disk"] if body.get("image") else 0,
        "alerts": {"cpu": 90, "io": 10000, "network_in": 10, "network_out": 10, "transfer_quota": 80},
        "backups": {"enabled": bool(body.get("backups_enabled")), "available": False,
                    "schedule": {"day": "Scheduling", "window": "Scheduling"}},
    }
    booted = body.get("booted", True) and bool(body.get("image"))
    passing(instance, "provisioning", "running" if booted else "offline")
    STATE["instances"][str(instance_id)] = instance
    if deployment:
        script["deployments_total"] += 1
        script["deployments_active"] += 1
        STATE["deployments"].append({"linode_id": instance_id, **deployment})
    return instance


def specs(instance_type):
    return {key: instance_type[key] for key in ("disk", "memory", "vcpus", "transfer", "gpus")}


def stackscript_deployment(body):
    """The StackScript a create deploys and the deployment to record, checked as Linode
    checks it: the script exists, lists the image, and gets every user-defined field it
    declares without a default. Nothing is changed here: the create records it."""
    if body.get("stackscript_id") is None:
        if body.get("stackscript_data"):
            raise Failure(400, "stackscript_data requires a stackscript_id", "stackscript_data")
        return None, None
    script = STATE["stackscripts"].get(str(body["stackscript_id"]))
    if script is None:
        raise Failure(400, "StackScript not found", "stackscript_id")
    if not body.get("image") or body["image"] not in script["images"]:
        raise Failure(400, "StackScript cannot be deployed to this image", "image")
    data = body.get("stackscript_data") or {}
    for field in script["user_defined_fields"]:
        if "default" not in field and field["name"] not in data:
            raise Failure(400, f"{field['name']} is required", "stackscript_data")
    return script, {"stackscript_id": script["id"], "stackscript_data": data}


def instance_resize(instance, body):
    """A resize to another type: the Linode is `migrating`, then back to the status it
    had, of the new type. A plan with a smaller disk than the one deployed needs
    `allow_auto_disk_resize` (true by default), which shrinks the disk with it."""
    need(body, "type")
    new_type = next((t for t in TYPES if t["id"] == body["type"]), None)
    if new_type is None:
        raise Failure(400, "A valid plan type by that ID was not found", "type")
    if new_type["id"] == instance["type"]:
        raise Failure(400, "Linode is already running this service plan.", "type")
    if instance["status"] not in ("running", "offline"):
        raise Failure(400, f"Linode busy: it is {instance['status']}")
    auto_disk = body.get("allow_auto_disk_resize", True)
    if new_type["disk"] < instance["_disk"] and not auto_disk:
        raise Failure(400, "The Linode has allocated more disk than the new service plan allows. "
                      "Delete or resize disks smaller.", "type")
    if auto_disk and instance["_disk"]:
        instance["_disk"] = new_type["disk"]
    passing(instance, "migrating", instance["status"])
    instance["_pending"]["changes"] = {"type": new_type["id"], "specs": specs(new_type)}
    return {}


def instance_update(instance, body):
    for name in ("label", "group", "watchdog_enabled"):
        if name in body:
            instance[name] = body[name]
    if "tags" in body:
        instance["tags"] = sorted(body["tags"])
    instance["updated"] = now()
    return instance


def instance_action(instance, action, body):
    if action == "boot":
        passing(instance, "booting", "running")
    elif action == "shutdown":
        passing(instance, "shutting_down", "offline")
    elif action == "reboot":
        passing(instance, "rebooting", "running")
    elif action == "backups/enable":
        instance["backups"]["enabled"] = True
    elif action == "backups/cancel":
        instance["backups"]["enabled"] = False
    else:
        raise Failure(404, "Not found")
    return {}


# --- the other kinds -------------------------------------------------------------------

def sshkey_create(body):
    need(body, "label", "ssh_key")
    key = {"id": new_id(), "label": body["label"], "ssh_key": body["ssh_key"].strip(), "created": now()}
    STATE["sshkeys"][str(key["id"])] = key
    return key


DOMAIN_FIELDS = ("description", "soa_email", "status", "ttl_sec", "refresh_sec", "retry_sec", "expire_sec",
                 "master_ips", "axfr_ips", "group", "type")


def domain_create(body):
    need(body, "domain", "type")
    if body["type"] == "master":
        need(body, "soa_email")
    if any(d["domain"] == body["domain"].lower() for d in STATE["domains"].values()):
        raise Failure(400, "Domain already exists", "domain")
    domain = {"id": new_id(), "domain": body["domain"].lower(), "type": body["type"], "status": "active",
              "description": "", "soa_email": "", "ttl_sec": 0, "refresh_sec": 0, "retry_sec": 0,
              "expire_sec": 0, "master_ips": [], "axfr_ips": [], "group": "", "tags": []}
    domain_update(domain, body)
    STATE["domains"][str(domain["id"])] = domain
    return domain


def domain_update(domain, body):
    for name in DOMAIN_FIELDS:
        if name in body:
            domain[name] = body[name]
    if "tags" in body:
        domain["tags"] = sorted(body["tags"])
    return domain


RECORD_FIELDS = ("name", "target", "ttl_sec", "priority", "weight", "port", "protocol", "service", "tag")


def record_create(domain_id, body):
    find("domains", domain_id)
    need(body, "type")
    # The description wants a name of one character or more: an apex record has none.
    record = {"id": new_id(), "type": body["type"], "target": "", "ttl_sec": 0, "priority": 0,
              "weight": 0, "port": 0, "protocol": None, "service": None, "tag": None,
              "created": now(), "updated": now(), "_domain": int(domain_id)}
    record_update(record, body)
    STATE["records"][str(record["id"])] = record
    return record


def record_update(record, body):
    for name in RECORD_FIELDS:
        if name in body:
            record[name] = body[name]
    if not record.get("name"):
        record.pop("name", None)
    record["updated"] = now()
    return record


def domain_record(domain_id, record_id):
    record = find("records", record_id)
    if record["_domain"] != int(domain_id):
        raise Failure(404, "Not found")
    return record


def firewall_rules(body):
    rules = body.get("rules") or {}
    return {"inbound": rules.get("inbound", []), "outbound": rules.get("outbound", []),
            "inbound_policy": rules.get("inbound_policy", "ACCEPT"),
            "outbound_policy": rules.get("outbound_policy", "ACCEPT")}


def firewall_create(body):
    """A firewall and its devices, made only once every Linode it names exists: a create
    that is refused (a 404 for a missing Linode) leaves nothing behind, as Linode's does."""
    need(body, "label", "rules")
    linodes = [find("instances", linode_id) for linode_id in (body.get("devices") or {}).get("linodes", [])]
    firewall = {"id": new_id(), "label": body["label"], "status": "enabled", "tags": sorted(body.get("tags", [])),
                "rules": firewall_rules(body), "created": now(), "updated": now()}
    STATE["firewalls"][str(firewall["id"])] = firewall
    for instance in linodes:
        device_store(firewall["id"], instance)
    return firewall


def firewall_update(firewall, body):
    for name in ("label", "status"):
        if name in body:
            firewall[name] = body[name]
    if "tags" in body:
        firewall["tags"] = sorted(body["tags"])
    firewall["updated"] = now()
    return firewall


def device_create(firewall_id, body):
    need(body, "type", "id")
    return device_store(firewall_id, find("instances", body["id"]))


def device_store(firewall_id, instance):
    """Stores a device of a firewall for an instance already found: nothing here fails."""
    device = {"id": new_id(), "created": now(), "updated": now(), "_firewall": int(firewall_id),
              "entity": {"id": instance["id"], "type": "linode", "label": instance["label"],
                         "url": f"https://api.linode.com/v4/linode/instances/{instance['id']}"}}
    STATE["devices"][str(device["id"])] = device
    return device


def firewall_devices(firewall_id):
    return [d for d in STATE["devices"].values() if d["_firewall"] == int(firewall_id)]


def volume_create(body):
    need(body, "label")
    linode_id = body.get("linode_id")
    region = body.get("region")
    if linode_id is not None:
        # Checked even when `region` is given: a volume is never stored attached to a
        # Linode that does not exist.
        instance = find("instances", linode_id)
        region = region or instance["region"]
    if region is None:
        raise Failure(400, "region is required without linode_id", "region")
    volume = {"id": new_id(), "label": body["label"], "size": body.get("size", 20), "region": region,
              "linode_id": linode_id, "linode_label": None, "status": "active",
              "tags": sorted(body.get("tags", [])), "filesystem_path": f"/dev/disk/by-id/scsi-0Linode_Volume_{body['label']}",
              "hardware_type": "nvme", "created": now(), "updated": now()}
    STATE["volumes"][str(volume["id"])] = volume
    return volume


def volume_action(volume, action, body):
    if action == "attach":
        need(body, "linode_id")
        find("instances", body["linode_id"])
        volume["linode_id"] = body["linode_id"]
    elif action == "detach":
        volume["linode_id"] = None
    elif action == "resize":
        need(body, "size")
        if body["size"] < volume["size"]:
            raise Failure(400, "Volumes can only be resized up", "size")
        volume["size"] = body["size"]
    else:
        raise Failure(404, "Not found")
    return volume if action == "resize" else {}


STACKSCRIPT_FIELDS = ("label", "script", "images", "description", "is_public", "rev_note")


def stackscript_create(body):
    need(body, "label", "script", "images")
    stackscript = {"id": new_id(), "label": "", "script": "", "images": [], "description": "", "is_public": False,
                   "rev_note": "", "username": "infra-test", "user_gravatar_id": "a445b305abda30ebc766bc7fda037c37",
                   "deployments_active": 0, "deployments_total": 0, "mine": True, "user_defined_fields": [],
                   "created": now(), "updated": now()}
    stackscript_update(stackscript, body)
    STATE["stackscripts"][str(stackscript["id"])] = stackscript
    return stackscript


def stackscript_update(stackscript, body):
    for name in STACKSCRIPT_FIELDS:
        if name in body:
            stackscript[name] = body[name]
    fields = re.findall(r'<UDF name="([^"]+)" label="([^"]*)"(?: example="([^"]*)")?', stackscript["script"])
    stackscript["user_defined_fields"] = [
        {"name": name, "label": label, "example": example} for name, label, example in fields]
    stackscript["updated"] = now()
    return stackscript


# --- routing ---------------------------------------------------------------------------

def public(item):
    """An object as the API shows it: without this server's bookkeeping."""
    return {k: v for k, v in item.items() if not k.startswith("_")}


def page(items, query):
    """One page of a list, as every Linode list endpoint returns it."""
    size = min(int(query.get("page_size", ["100"])[0]), STATE["max_page_size"])
    number = int(query.get("page", ["1"])[0])
    pages = max(1, -(-len(items) // size))
    chunk = items[(number - 1) * size:number * size]
    return {"data": [public(i) for i in chunk], "page": number, "pages": pages, "results": len(items)}


def instances_list():
    instances = list(STATE["instances"].values())
    for instance in instances:
        settle(instance)
    return instances


def instance_get(instance_id):
    instance = find("instances", instance_id)
    settle(instance)
    return instance


def deleted(collection, object_id):
    find(collection, object_id)
    del STATE[collection][str(object_id)]
    return {}


def instance_delete(instance_id):
    deleted("instances", instance_id)
    for device in [d for d in STATE["devices"].values() if d["entity"]["id"] == int(instance_id)]:
        del STATE["devices"][str(device["id"])]
    for volume in STATE["volumes"].values():
        if volume["linode_id"] == int(instance_id):
            volume["linode_id"] = None
    return {}


def domain_delete(domain_id):
    deleted("domains", domain_id)
    for record in [r for r in STATE["records"].values() if r["_domain"] == int(domain_id)]:
        del STATE["records"][str(record["id"])]
    return {}


def firewall_delete(firewall_id):
    deleted("firewalls", firewall_id)
    for device in firewall_devices(firewall_id):
        del STATE["devices"][str(device["id"])]
    return {}


def sorted_values(collection):
    return sorted(STATE[collection].values(), key=lambda item: item["id"])


# (method, pattern) -> handler(match groups, body, query); a handler returns an object, or
# a list to be paged.
ROUTES = [
    ("GET", r"/regions", lambda g, b, q: REGIONS),
    ("GET", r"/regions/([^/]+)", lambda g, b, q: next((r for r in REGIONS if r["id"] == g[0]), None)),
    ("GET", r"/linode/types", lambda g, b, q: TYPES),
    ("GET", r"/linode/types/([^/]+)", lambda g, b, q: next((t for t in TYPES if t["id"] == g[0]), None)),
    ("GET", r"/images", lambda g, b, q: IMAGES),
    ("GET", r"/linode/instances", lambda g, b, q: instances_list()),
    ("POST", r"/linode/instances", lambda g, b, q: instance_create(b)),
    ("GET", r"/linode/instances/(\d+)", lambda g, b, q: instance_get(g[0])),
    ("PUT", r"/linode/instances/(\d+)", lambda g, b, q: instance_update(find("instances", g[0]), b)),
    ("DELETE", r"/linode/instances/(\d+)", lambda g, b, q: instance_delete(g[0])),
    ("POST", r"/linode/instances/(\d+)/resize", lambda g, b, q: instance_resize(find("instances", g[0]), b)),
    ("POST", r"/linode/instances/(\d+)/(boot|shutdown|reboot|backups/enable|backups/cancel)",
     lambda g, b, q: instance_action(find("instances", g[0]), g[1], b)),
    ("GET", r"/profile/sshkeys", lambda g, b, q: sorted_values("sshkeys")),
    ("POST", r"/profile/sshkeys", lambda g, b, q: sshkey_create(b)),
    ("GET", r"/profile/sshkeys/(\d+)", lambda g, b, q: find("sshkeys", g[0])),
    ("PUT", r"/profile/sshkeys/(\d+)", lambda g, b, q: find("sshkeys", g[0]).update(
        {k: v for k, v in b.items() if k == "label"}) or find("sshkeys", g[0])),
    ("DELETE", r"/profile/sshkeys/(\d+)", lambda g, b, q: deleted("sshkeys", g[0])),
    ("GET", r"/domains", lambda g, b, q: sorted_values("domains")),
    ("POST", r"/domains", lambda g, b, q: domain_create(b)),
    ("GET", r"/domains/(\d+)", lambda g, b, q: find("domains", g[0])),
    ("PUT", r"/domains/(\d+)", lambda g, b, q: domain_update(find("domains", g[0]), b)),
    ("DELETE", r"/domains/(\d+)", lambda g, b, q: domain_delete(g[0])),
    ("GET", r"/domains/(\d+)/records", lambda g, b, q: [
        r for r in sorted_values("records") if r["_domain"] == int(g[0]) and find("domains", g[0])]),
    ("POST", r"/domains/(\d+)/records", lambda g, b, q: record_create(g[0], b)),
    ("GET", r"/domains/(\d+)/records/(\d+)", lambda g, b, q: domain_record(g[0], g[1])),
    ("PUT", r"/domains/(\d+)/records/(\d+)", lambda g, b, q: record_update(domain_record(g[0], g[1]), b)),
    ("DELETE", r"/domains/(\d+)/records/(\d+)", lambda g, b, q: domain_record(g[0], g[1]) and deleted("records", g[1])),
    ("GET", r"/networking/firewalls", lambda g, b, q: sorted_values("firewalls")),
    ("POST", r"/networking/firewalls", lambda g, b, q: firewall_create(b)),
    ("GET", r"/networking/firewalls/(\d+)", lambda g, b, q: find("firewalls", g[0])),
    ("PUT", r"/networking/firewalls/(\d+)", lambda g, b, q: firewall_update(find("firewalls", g[0]), b)),
    ("DELETE", r"/networking/firewalls/(\d+)", lambda g, b, q: firewall_delete(g[0])),
    ("GET", r"/networking/firewalls/(\d+)/rules", lambda g, b, q: find("firewalls", g[0])["rules"]),
    ("PUT", r"/networking/firewalls/(\d+)/rules", lambda g, b, q: find("firewalls", g[0]).update(
        {"rules": firewall_rules({"rules": b})}) or find("firewalls", g[0])["rules"]),
    ("GET", r"/networking/firewalls/(\d+)/devices", lambda g, b, q: find("firewalls", g[0]) and firewall_devices(g[0])),
    ("POST", r"/networking/firewalls/(\d+)/devices", lambda g, b, q: find("firewalls", g[0]) and device_create(g[0], b)),
    ("DELETE", r"/networking/firewalls/(\d+)/devices/(\d+)", lambda g, b, q: deleted("devices", g[1])),
    ("GET", r"/volumes", lambda g, b, q: sorted_values("volumes")),
    ("POST", r"/volumes", lambda g, b, q: volume_create(b)),
    ("GET", r"/volumes/(\d+)", lambda g, b, q: find("volumes", g[0])),
    ("PUT", r"/volumes/(\d+)", lambda g, b, q: find("volumes", g[0]).update(
        {k: (sorted(v) if k == "tags" else v) for k, v in b.items() if k in ("label", "tags")}) or find("volumes", g[0])),
    ("DELETE", r"/volumes/(\d+)", lambda g, b, q: deleted("volumes", g[0])),
    ("POST", r"/volumes/(\d+)/(attach|detach|resize)", lambda g, b, q: volume_action(find("volumes", g[0]), g[1], b)),
    ("GET", r"/linode/stackscripts", lambda g, b, q: sorted_values("stackscripts")),
    ("POST", r"/linode/stackscripts", lambda g, b, q: stackscript_create(b)),
    ("GET", r"/linode/stackscripts/(\d+)", lambda g, b, q: find("stackscripts", g[0])),
    ("PUT", r"/linode/stackscripts/(\d+)", lambda g, b, q: stackscript_update(find("stackscripts", g[0]), b)),
    ("DELETE", r"/linode/stackscripts/(\d+)", lambda g, b, q: deleted("stackscripts", g[0])),
]


def route(method, path, body, query):
    for route_method, pattern, handler in ROUTES:
        match = re.fullmatch(pattern, path)
        if match and route_method == method:
            result = handler(match.groups(), body, query)
            if result is None:
                raise Failure(404, "Not found")
            return page(result, query) if isinstance(result, list) else public(result)
    raise Failure(404, "Not found")


class Handler(BaseHTTPRequestHandler):
    # One request a connection: a kept-alive connection this server closes while Prism
    # reuses it would fail a request at random.
    protocol_version = "HTTP/1.0"
    token = ""

    def log_message(self, *args):
        pass

    def answer(self, status, document, headers=()):
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def control(self, path, body):
        if path == "/__standin/throttle":
            STATE["throttle"] = {"count": body["count"], "retry_after": body.get("retry_after", 1)}
        elif path == "/__standin/fail":
            STATE["fail"] = {"count": body["count"], "status": body.get("status", 500)}
        elif path == "/__standin/deployments":
            return self.answer(200, STATE["deployments"])
        elif path == "/__standin/page_size":
            STATE["max_page_size"] = body["max"]
        elif path == "/__standin/settle":
            # How many GETs a new instance (or one after an action) stays in its passing
            # status; instances already passing settle after one more GET.
            STATE["settle_gets"] = body["gets"]
            for instance in STATE["instances"].values():
                if "_pending" in instance:
                    instance["_pending"]["gets"] = min(instance["_pending"]["gets"], body["gets"])
        elif path == "/__standin/requests":
            return self.answer(200, STATE["requests"])
        return self.answer(200, {})

    def handle_any(self):
        url = urlparse(self.path)
        # Prism forwards the path as the client sent it; the API's own prefix is optional.
        path = re.sub(r"^/v4(beta)?(?=/)", "", url.path.rstrip("/") or "/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self.answer(400, {"errors": [{"reason": "Invalid JSON"}]})
        with LOCK:
            if path.startswith("/__standin/"):
                return self.control(path, body)
            STATE["requests"].append(f"{self.command} {path}")
            if self.headers.get("Authorization") != f"Bearer {self.token}":
                return self.answer(401, {"errors": [{"reason": "Invalid Token"}]})
            throttle = STATE["throttle"]
            if throttle["count"] > 0:
                throttle["count"] -= 1
                return self.answer(429, {"errors": [{"reason": "Too many requests"}]},
                                   [("Retry-After", str(throttle["retry_after"]))])
            fail = STATE["fail"]
            if fail["count"] > 0:
                fail["count"] -= 1
                reason = "Service Unavailable" if fail["status"] == 503 else "Internal Server Error"
                return self.answer(fail["status"], {"errors": [{"reason": reason}]})
            try:
                result = route(self.command, path, body, parse_qs(url.query))
            except Failure as failure:
                error = {"reason": failure.reason}
                if failure.field:
                    error["field"] = failure.field
                return self.answer(failure.status, {"errors": [error]})
        return self.answer(200, result)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


def main():
    port, token = int(sys.argv[1]), sys.argv[2]
    Handler.token = token
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
