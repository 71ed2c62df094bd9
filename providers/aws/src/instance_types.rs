//! The EC2 instance types `aws.instance` accepts: the families and sizes AWS offers, as
//! the checker knows them (AWS's set is fixed per region; a type outside this table is
//! refused at check time rather than by `RunInstances` halfway through an apply).

/// Sizes of the burstable families.
const BURSTABLE: &[&str] = &["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"];
/// Sizes of Intel and AMD general purpose, compute and memory families of the 5th generation.
const GEN5: &[&str] =
    &["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "metal"];
/// Sizes of the 6th generation Intel families.
const GEN6I: &[&str] =
    &["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge", "metal"];
/// Sizes of the AMD families from the 6th generation on.
const GEN6A: &[&str] = &[
    "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge", "48xlarge",
    "metal",
];
/// Sizes of the Graviton (Arm) families.
const GRAVITON: &[&str] =
    &["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "metal"];
/// Sizes of the 7th generation Intel families.
const GEN7I: &[&str] = &[
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
    "24xlarge",
    "48xlarge",
    "metal-24xl",
    "metal-48xl",
];
/// Sizes of the 7th generation AMD families.
const GEN7A: &[&str] = &[
    "medium",
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
    "24xlarge",
    "32xlarge",
    "48xlarge",
    "metal-48xl",
];

/// Every family with its sizes.
const FAMILIES: &[(&str, &[&str])] = &[
    ("t2", BURSTABLE),
    ("t3", BURSTABLE),
    ("t3a", BURSTABLE),
    ("t4g", BURSTABLE),
    ("m4", &["large", "xlarge", "2xlarge", "4xlarge", "10xlarge", "16xlarge"]),
    ("m5", GEN5),
    ("m5a", GEN5),
    ("m5d", GEN5),
    ("m5n", GEN5),
    ("m6i", GEN6I),
    ("m6id", GEN6I),
    ("m6a", GEN6A),
    ("m6g", GRAVITON),
    ("m6gd", GRAVITON),
    ("m7i", GEN7I),
    ("m7i-flex", &["large", "xlarge", "2xlarge", "4xlarge", "8xlarge"]),
    ("m7a", GEN7A),
    ("m7g", GRAVITON),
    ("m7gd", GRAVITON),
    ("c4", &["large", "xlarge", "2xlarge", "4xlarge", "8xlarge"]),
    ("c5", &["large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge", "metal"]),
    ("c5a", &["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"]),
    ("c5d", &["large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge", "metal"]),
    ("c5n", &["large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "18xlarge", "metal"]),
    ("c6i", GEN6I),
    ("c6id", GEN6I),
    ("c6a", GEN6A),
    ("c6g", GRAVITON),
    ("c6gd", GRAVITON),
    ("c6gn", &["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"]),
    ("c7i", GEN7I),
    ("c7a", GEN7A),
    ("c7g", GRAVITON),
    ("c7gd", GRAVITON),
    ("c7gn", GRAVITON),
    ("r4", &["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge"]),
    ("r5", GEN5),
    ("r5a", GEN5),
    ("r5d", GEN5),
    ("r5n", GEN5),
    ("r6i", GEN6I),
    ("r6id", GEN6I),
    ("r6a", GEN6A),
    ("r6g", GRAVITON),
    ("r6gd", GRAVITON),
    ("r7i", GEN7I),
    ("r7a", GEN7A),
    ("r7g", GRAVITON),
    ("r7gd", GRAVITON),
    ("x2gd", GRAVITON),
    ("z1d", &["large", "xlarge", "2xlarge", "3xlarge", "6xlarge", "12xlarge", "metal"]),
    ("i3", &["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge", "metal"]),
    ("i4i", &["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge", "32xlarge", "metal"]),
    ("d3", &["xlarge", "2xlarge", "4xlarge", "8xlarge"]),
    ("g4dn", &["xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "metal"]),
    ("g5", &["xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"]),
    ("g6", &["xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"]),
    ("p3", &["2xlarge", "8xlarge", "16xlarge"]),
    ("p4d", &["24xlarge"]),
    ("p5", &["48xlarge"]),
    ("inf2", &["xlarge", "8xlarge", "24xlarge", "48xlarge"]),
];

/// Older types still launched in some accounts (and the default of EC2 emulators).
const PREVIOUS_GENERATION: &[&str] = &["t1.micro", "m1.small", "m1.medium", "m1.large", "m1.xlarge", "m3.medium"];

/// Every instance type, as `family.size`.
pub(super) fn all() -> Vec<String> {
    let current = FAMILIES.iter().flat_map(|(family, sizes)| sizes.iter().map(move |size| format!("{family}.{size}")));
    current.chain(PREVIOUS_GENERATION.iter().map(|t| t.to_string())).collect()
}
