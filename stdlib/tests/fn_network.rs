//! The network functions, each as a table of calls and their expected rendering (or a
//! fragment of the expected error). Cases marked "Terraform docs" are the examples of
//! Terraform's documentation, with Terraform's results.

use infra_stdlib::testing::check;

#[test]
fn cidrsubnet() {
    check(&[
        ("cidrsubnet(\"10.0.0.0/16\", 8, 2)", Ok("\"10.0.2.0/24\"")),
        // Terraform docs.
        ("cidrsubnet(\"172.16.0.0/12\", 4, 2)", Ok("\"172.18.0.0/16\"")),
        ("cidrsubnet(\"10.1.2.0/24\", 4, 15)", Ok("\"10.1.2.240/28\"")),
        ("cidrsubnet(\"fd00:fd12:3456:7890::/56\", 16, 162)", Ok("\"fd00:fd12:3456:7800:a200::/72\"")),
        // Host bits in the prefix are ignored, as in Terraform.
        ("cidrsubnet(\"10.1.2.3/16\", 4, 15)", Ok("\"10.1.240.0/20\"")),
        ("cidrsubnet(\"10.0.0.0/16\", 0, 0)", Ok("\"10.0.0.0/16\"")),
        ("cidrsubnet(\"10.0.0.0/16\", 16, 65535)", Ok("\"10.0.255.255/32\"")),
        (
            "cidrsubnet(\"10.0.0.0/16\", 8, 256)",
            Err("subnet number 256 does not exist: 10.0.0.0/16 extended by 8 bits has 256 subnets"),
        ),
        ("cidrsubnet(\"10.0.0.0/16\", 8, -1)", Err("subnet number -1 does not exist")),
        (
            "cidrsubnet(\"10.0.0.0/30\", 3, 0)",
            Err("cannot extend 10.0.0.0/30 by 3 bits: an IPv4 prefix has at most 32 bits"),
        ),
        ("cidrsubnet(\"10.0.0.0/16\", -1, 0)", Err("newbits must not be negative, found -1")),
        ("cidrsubnet(\"10.0.0/16\", 8, 0)", Err("invalid CIDR prefix \"10.0.0/16\"\nwrite an address")),
        ("cidrsubnet(\"10.0.0.0/33\", 1, 0)", Err("invalid CIDR prefix")),
        ("cidrsubnet(\"10.0.0.0/16\", 1.5, 0)", Err("argument 2 must be a whole number, found 1.5")),
    ]);
}

#[test]
fn cidrhost() {
    check(&[
        // Terraform docs.
        ("cidrhost(\"10.12.112.0/20\", 16)", Ok("\"10.12.112.16\"")),
        ("cidrhost(\"10.12.112.0/20\", 268)", Ok("\"10.12.113.12\"")),
        ("cidrhost(\"fd00:fd12:3456:7800:a200::/72\", 34)", Ok("\"fd00:fd12:3456:7800:a200::22\"")),
        // Host bits in the prefix are ignored: a /72 keeps only the first byte (`00`) of
        // the fifth group.
        ("cidrhost(\"fd00:fd12:3456:7890:00a2::/72\", 34)", Ok("\"fd00:fd12:3456:7890::22\"")),
        ("cidrhost(\"10.0.0.0/24\", 0)", Ok("\"10.0.0.0\"")),
        ("cidrhost(\"10.0.0.0/24\", -1)", Ok("\"10.0.0.255\"")),
        ("cidrhost(\"10.0.0.0/24\", -256)", Ok("\"10.0.0.0\"")),
        ("cidrhost(\"10.0.0.7/32\", 0)", Ok("\"10.0.0.7\"")),
        ("cidrhost(\"::/0\", -1)", Ok("\"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\"")),
        (
            "cidrhost(\"10.0.0.0/24\", 256)",
            Err("host number 256 is outside 10.0.0.0/24\n10.0.0.0/24 has host numbers 0 to 255, or -1 back to -256"),
        ),
        ("cidrhost(\"10.0.0.0/24\", -257)", Err("host number -257 is outside 10.0.0.0/24")),
        ("cidrhost(\"10.0.0.7/32\", 1)", Err("host number 1 is outside 10.0.0.7/32")),
        ("cidrhost(\"x\", 1)", Err("invalid CIDR prefix \"x\"")),
    ]);
}

#[test]
fn cidrnetmask() {
    check(&[
        // Terraform docs.
        ("cidrnetmask(\"172.16.0.0/12\")", Ok("\"255.240.0.0\"")),
        ("cidrnetmask(\"10.0.0.0/23\")", Ok("\"255.255.254.0\"")),
        ("cidrnetmask(\"10.0.0.1/32\")", Ok("\"255.255.255.255\"")),
        ("cidrnetmask(\"0.0.0.0/0\")", Ok("\"0.0.0.0\"")),
        ("cidrnetmask(\"fd00::/8\")", Err("fd00::/8 is an IPv6 prefix, which has no netmask")),
        ("cidrnetmask(\"10.0.0.0\")", Err("invalid CIDR prefix \"10.0.0.0\"")),
        ("cidrnetmask(\"\")", Err("invalid CIDR prefix \"\"")),
    ]);
}

#[test]
fn cidrsubnets() {
    check(&[
        // Terraform docs.
        (
            "cidrsubnets(\"10.1.0.0/16\", 4, 4, 8, 4)",
            Ok("[\"10.1.0.0/20\", \"10.1.16.0/20\", \"10.1.32.0/24\", \"10.1.48.0/20\"]"),
        ),
        (
            "cidrsubnets(\"fd00:fd12:3456:7890::/56\", 16, 16, 16, 32)",
            Ok("[\"fd00:fd12:3456:7800::/72\", \"fd00:fd12:3456:7800:100::/72\", \"fd00:fd12:3456:7800:200::/72\", \"fd00:fd12:3456:7800:300::/88\"]"),
        ),
        ("cidrsubnets(\"10.0.0.0/24\")", Ok("[]")),
        ("cidrsubnets(\"10.0.0.0/24\", 1, 1)", Ok("[\"10.0.0.0/25\", \"10.0.0.128/25\"]")),
        ("cidrsubnets(\"10.0.0.0/24\", 2, 1)", Ok("[\"10.0.0.0/26\", \"10.0.0.128/25\"]")),
        ("cidrsubnets(\"::/0\", 1, 1)", Ok("[\"::/1\", \"8000::/1\"]")),
        ("cidrsubnets(\"10.0.0.0/24\", 1, 1, 1)", Err("no room left in 10.0.0.0/24 for a /25 subnet after 10.0.0.128/25")),
        ("cidrsubnets(\"10.0.0.0/24\", 2, 1, 2)", Err("no room left in 10.0.0.0/24 for a /26 subnet after 10.0.0.128/25")),
        ("cidrsubnets(\"10.0.0.0/24\", 0)", Err("newbits must be from 1 to 32, found 0")),
        ("cidrsubnets(\"::/0\", 33)", Err("newbits must be from 1 to 32, found 33")),
        ("cidrsubnets(\"10.0.0.0/24\", 9)", Err("cannot extend 10.0.0.0/24 by 9 bits")),
        ("cidrsubnets(\"10.0.0.0/24x\", 1)", Err("invalid CIDR prefix")),
    ]);
}
