//! `qemu.vm`'s `network` blocks: one network card each, in user mode (QEMU's own NAT,
//! with `forward` blocks opening ports of this machine to the guest), on a tap device or
//! on a bridge. Read from the attributes, checked when planning, and turned into QEMU's
//! `-nic` options.

use infra_compiler::schema::{AttributeSchema, BlockSchema, Comparison, Schema, Validator};
use infra_compiler::types::Type;
use infra_provider_kit::attribute;
use infra_runtime::provider::{Attributes, ProviderError};
use infra_runtime::Value;

use crate::{one_of, string};

/// The card model every network uses: the cloud kernels have its driver.
const MODEL: &str = "virtio-net-pci";

pub fn block() -> BlockSchema {
    let description = "A network card of the VM: user mode (QEMU's own NAT, the default, with forwarded ports), a \
                       tap device or a bridge of this machine.";
    BlockSchema {
        name: "network".to_string(),
        description: description.to_string(),
        schema: Schema {
            description: description.to_string(),
            attributes: vec![
                string(
                    "mode",
                    "\"user\" (the default: the VM reaches out through this machine, and `forward` blocks open ports \
                     of this machine to it), \"tap\" (the tap device `ifname`) or \"bridge\" (the bridge `bridge`, \
                     through QEMU's bridge helper).",
                )
                .validate(one_of(&["user", "tap", "bridge"])),
                string(
                    "ifname",
                    "The tap device, for `mode = \"tap\"`; it must exist and belong to the user running QEMU.",
                )
                .validate(Validator::Regex {
                    pattern: "^[A-Za-z0-9_.-]{1,15}$".to_string(),
                    description: "a network interface name of at most 15 characters, such as \"tap0\"".to_string(),
                }),
                string(
                    "bridge",
                    "The bridge, for `mode = \"bridge\"`; QEMU's bridge helper must allow it (`allow BRIDGE` in \
                     /etc/qemu/bridge.conf).",
                )
                .validate(Validator::Regex {
                    pattern: "^[A-Za-z0-9_.-]{1,15}$".to_string(),
                    description: "a network interface name of at most 15 characters, such as \"br0\"".to_string(),
                }),
                string(
                    "mac",
                    "The card's MAC address; left out, one made from the VM's name and the card's place, so VMs on \
                     one bridge differ and a VM keeps its address across restarts.",
                )
                .validate(Validator::Regex {
                    pattern: "^[0-9a-fA-F][02468aceACE](:[0-9a-fA-F]{2}){5}$".to_string(),
                    description: "a unicast MAC address, such as \"52:54:00:12:34:56\"".to_string(),
                }),
            ],
            blocks: vec![forward_block()],
        },
        repeated: true,
        compare: Comparison::Exact,
    }
}

fn forward_block() -> BlockSchema {
    let description = "A TCP port of this machine forwarded to a port of the guest (user mode only).";
    let port = |name: &str, description: &str| {
        AttributeSchema::required(name, Type::Number, description).validate(Validator::Range { min: 1, max: 65535 })
    };
    BlockSchema {
        name: "forward".to_string(),
        description: description.to_string(),
        schema: Schema {
            description: description.to_string(),
            attributes: vec![
                port("host_port", "The port on this machine."),
                port("guest_port", "The port in the guest."),
                string("host_address", "The address on this machine to listen on; \"127.0.0.1\" by default."),
            ],
            blocks: Vec::new(),
        },
        repeated: true,
        compare: Comparison::Exact,
    }
}

/// One `forward` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Forward {
    pub host_address: String,
    pub host_port: u16,
    pub guest_port: u16,
}

/// One `network` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub mode: String,
    pub ifname: Option<String>,
    pub bridge: Option<String>,
    pub mac: Option<String>,
    pub forwards: Vec<Forward>,
}

/// The `network` blocks, or `None` while they are unknown. Without a block the VM has one
/// user-mode card with no forwarded port.
pub fn networks(attributes: &Attributes) -> Option<Vec<Network>> {
    let blocks = attribute(attributes, "network");
    if !blocks.is_known() {
        return None;
    }
    let blocks = blocks.as_list().unwrap_or_default();
    if blocks.is_empty() {
        return Some(vec![user_network()]);
    }
    Some(blocks.iter().filter_map(Value::as_map).map(network).collect())
}

fn user_network() -> Network {
    Network { mode: "user".to_string(), ifname: None, bridge: None, mac: None, forwards: Vec::new() }
}

fn network(map: &Attributes) -> Network {
    let text = |name: &str| map.get(name).and_then(Value::as_str).map(str::to_string);
    let forwards = map.get("forward").and_then(Value::as_list).unwrap_or_default();
    Network {
        mode: text("mode").unwrap_or_else(|| "user".to_string()),
        ifname: text("ifname"),
        bridge: text("bridge"),
        mac: text("mac"),
        forwards: forwards.iter().filter_map(Value::as_map).filter_map(forward).collect(),
    }
}

fn forward(map: &Attributes) -> Option<Forward> {
    let port = |name: &str| map.get(name).and_then(Value::as_number).map(|n| n as u16);
    Some(Forward {
        host_address: map.get("host_address").and_then(Value::as_str).unwrap_or("127.0.0.1").to_string(),
        host_port: port("host_port")?,
        guest_port: port("guest_port")?,
    })
}

/// Every forwarded port of the user-mode networks, in order.
pub fn forwards(networks: &[Network]) -> impl Iterator<Item = &Forward> {
    networks.iter().flat_map(|n| n.forwards.iter())
}

/// The forward to guest port 22, which `ssh_host` and `ssh_port` name.
pub fn ssh_forward(networks: &[Network]) -> Option<&Forward> {
    forwards(networks).find(|f| f.guest_port == 22)
}

/// What is wrong with the `network` blocks: settings of another mode, a missing device,
/// one port of this machine forwarded twice.
pub fn validate(networks: &[Network]) -> Vec<ProviderError> {
    let mut errors: Vec<ProviderError> = networks.iter().filter_map(mode_error).collect();
    let mut seen: Vec<(&str, u16)> = Vec::new();
    for forward in forwards(networks) {
        let key = (forward.host_address.as_str(), forward.host_port);
        if seen.contains(&key) {
            errors.push(
                ProviderError::new(format!("{}:{} is forwarded twice", key.0, key.1))
                    .on_attribute("network")
                    .with_help("each `forward` needs its own `host_port`"),
            );
        }
        seen.push(key);
    }
    errors
}

fn mode_error(network: &Network) -> Option<ProviderError> {
    let error = |message: String, help: &str| Some(ProviderError::new(message).on_attribute("network").with_help(help));
    let mode = network.mode.as_str();
    match mode {
        "tap" if network.ifname.is_none() => {
            error("a `tap` network needs `ifname`".to_string(), "name the tap device, such as `ifname = \"tap0\"`")
        }
        "bridge" if network.bridge.is_none() => {
            error("a `bridge` network needs `bridge`".to_string(), "name the bridge, such as `bridge = \"br0\"`")
        }
        "user" | "bridge" if network.ifname.is_some() => {
            error(format!("`ifname` is for `mode = \"tap\"`, not `{mode}`"), "remove `ifname`, or set `mode = \"tap\"`")
        }
        "user" | "tap" if network.bridge.is_some() => error(
            format!("`bridge` is for `mode = \"bridge\"`, not `{mode}`"),
            "remove `bridge`, or set `mode = \"bridge\"`",
        ),
        "tap" | "bridge" if !network.forwards.is_empty() => error(
            format!("`forward` is for user-mode networks, not `{mode}`"),
            "on a tap device or bridge the guest has an address of its own: reach it there, or add a \
             `network { mode = \"user\" ... }` for forwarded ports",
        ),
        _ => None,
    }
}

/// QEMU's `-nic` options for the networks of the VM named `name`.
pub fn arguments(name: &str, networks: &[Network]) -> Vec<String> {
    let mut args = Vec::new();
    for (index, network) in networks.iter().enumerate() {
        let mac = network.mac.clone().unwrap_or_else(|| default_mac(name, index));
        let backend = match network.mode.as_str() {
            "tap" => format!("tap,ifname={},script=no,downscript=no", network.ifname.as_deref().unwrap_or_default()),
            "bridge" => format!("bridge,br={}", network.bridge.as_deref().unwrap_or_default()),
            _ => {
                let forwards: String = network
                    .forwards
                    .iter()
                    .map(|f| format!(",hostfwd=tcp:{}:{}-:{}", f.host_address, f.host_port, f.guest_port))
                    .collect();
                format!("user{forwards}")
            }
        };
        args.extend(["-nic".to_string(), format!("{backend},model={MODEL},mac={mac}")]);
    }
    args
}

/// A MAC address for the card at `index` of the VM `name`: QEMU's own prefix `52:54:00`,
/// then three bytes of the SHA-256 of both, so VMs on one bridge differ (QEMU would give
/// each the same `52:54:00:12:34:56`) and a VM keeps its address.
fn default_mac(name: &str, index: usize) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{name}/{index}"));
    format!("52:54:00:{:02x}:{:02x}:{:02x}", digest[0], digest[1], digest[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::map(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    fn port(host_port: u16, guest_port: u16) -> Value {
        map(&[("host_port", Value::number(f64::from(host_port))), ("guest_port", Value::number(f64::from(guest_port)))])
    }

    /// The networks of a VM configured with these `network` blocks.
    fn configured(blocks: Vec<Value>) -> Vec<Network> {
        let attributes: Attributes = [("network".to_string(), Value::list(blocks))].into_iter().collect();
        networks(&attributes).expect("known")
    }

    fn check(blocks: Vec<Value>, expect: &[&str]) {
        let networks = configured(blocks);
        assert_eq!(validate(&networks), Vec::new());
        assert_eq!(arguments("web", &networks), expect.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    }

    fn error(blocks: Vec<Value>) -> String {
        let errors = validate(&configured(blocks));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].attribute.as_deref(), Some("network"));
        assert!(errors[0].help.is_some());
        errors[0].message.clone()
    }

    #[test]
    fn each_mode_makes_its_nic_option() {
        let mac = default_mac("web", 0);
        check(Vec::new(), &["-nic", &format!("user,model=virtio-net-pci,mac={mac}")]);
        check(
            vec![map(&[("forward", Value::list(vec![port(2222, 22), port(8080, 80)]))])],
            &[
                "-nic",
                &format!(
                    "user,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=tcp:127.0.0.1:8080-:80,model=virtio-net-pci,mac={mac}"
                ),
            ],
        );
        let everywhere = map(&[
            ("host_port", Value::number(2222.0)),
            ("guest_port", Value::number(22.0)),
            ("host_address", Value::string("0.0.0.0")),
        ]);
        check(
            vec![map(&[("mode", Value::string("user")), ("forward", Value::list(vec![everywhere]))])],
            &["-nic", &format!("user,hostfwd=tcp:0.0.0.0:2222-:22,model=virtio-net-pci,mac={mac}")],
        );
        check(
            vec![map(&[("mode", Value::string("tap")), ("ifname", Value::string("tap0"))])],
            &["-nic", &format!("tap,ifname=tap0,script=no,downscript=no,model=virtio-net-pci,mac={mac}")],
        );
        check(
            vec![
                map(&[
                    ("mode", Value::string("bridge")),
                    ("bridge", Value::string("br0")),
                    ("mac", Value::string("52:54:00:aa:bb:cc")),
                ]),
                map(&[("forward", Value::list(vec![port(2222, 22)]))]),
            ],
            &[
                "-nic",
                "bridge,br=br0,model=virtio-net-pci,mac=52:54:00:aa:bb:cc",
                "-nic",
                &format!("user,hostfwd=tcp:127.0.0.1:2222-:22,model=virtio-net-pci,mac={}", default_mac("web", 1)),
            ],
        );
    }

    #[test]
    fn made_up_macs_differ_between_vms_and_cards_and_stay_the_same() {
        assert_eq!(default_mac("web", 0), default_mac("web", 0));
        assert_ne!(default_mac("web", 0), default_mac("db", 0));
        assert_ne!(default_mac("web", 0), default_mac("web", 1));
        assert!(default_mac("web", 0).starts_with("52:54:00:"));
    }

    #[test]
    fn settings_of_another_mode_and_missing_devices_are_refused() {
        let tap = |extra: &[(&str, Value)]| {
            let mut pairs = vec![("mode", Value::string("tap"))];
            pairs.extend(extra.iter().cloned());
            map(&pairs)
        };
        assert_eq!(error(vec![tap(&[])]), "a `tap` network needs `ifname`");
        assert_eq!(error(vec![map(&[("mode", Value::string("bridge"))])]), "a `bridge` network needs `bridge`");
        assert_eq!(
            error(vec![map(&[("ifname", Value::string("tap0"))])]),
            "`ifname` is for `mode = \"tap\"`, not `user`"
        );
        assert_eq!(
            error(vec![tap(&[("ifname", Value::string("tap0")), ("bridge", Value::string("br0"))])]),
            "`bridge` is for `mode = \"bridge\"`, not `tap`"
        );
        assert_eq!(
            error(vec![tap(&[("ifname", Value::string("tap0")), ("forward", Value::list(vec![port(2222, 22)]))])]),
            "`forward` is for user-mode networks, not `tap`"
        );
        assert_eq!(
            error(vec![
                map(&[("forward", Value::list(vec![port(2222, 22)]))]),
                map(&[("forward", Value::list(vec![port(2222, 80)]))]),
            ]),
            "127.0.0.1:2222 is forwarded twice"
        );
    }

    #[test]
    fn the_ssh_endpoint_is_the_forward_to_guest_port_22() {
        let networks = configured(vec![map(&[("forward", Value::list(vec![port(8080, 80), port(2200, 22)]))])]);
        assert_eq!(ssh_forward(&networks).map(|f| f.host_port), Some(2200));
        assert_eq!(ssh_forward(&configured(Vec::new())), None);
    }
}
