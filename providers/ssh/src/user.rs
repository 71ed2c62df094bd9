//! `ssh.user`: a user account (`useradd`, `usermod`, `userdel`), its groups and the
//! exact set of keys in its `~/.ssh/authorized_keys`.
//!
//! Drift comes from `getent passwd`, `id` and the authorized_keys file, read for all
//! users of a host with one command (`batch.rs`). Attributes left out (`uid`, `group`,
//! `groups`, `shell`, `home`, `authorized_keys`) are not managed: they are recorded as
//! the server has them.
//!
//! The home directory may sit where someone else may write (a shared `/srv`, not
//! sticky), and the user owns what is in it: either could put a symbolic link where root
//! is about to make, move or chown a directory by its path. So root never goes through
//! a link at the home or at `~/.ssh`: a link there (or a home neither the user's nor
//! root's) is refused with an error naming it (`UNSAFE_HOME`, `UNSAFE_SSH_DIR`), and
//! the keys script makes and chowns `~/.ssh` from inside the home, entered with `cd -P`
//! and checked to be the directory at the path itself (as `directory.rs`' `script`), on
//! names relative to where it stands. `useradd -m` and `usermod -m` work by path and
//! cannot be entered so: the scripts refuse a link at the home just before they run,
//! which leaves a window between that check and the tool (see `check_functions`).
//! Links in the home's own parents are followed, as the server follows them.

use infra_compiler::schema::Schema;
use infra_provider_kit::{attribute, plan_attributes};
use infra_runtime::provider::{Attributes, CreateProgress, ProviderError, ProviderResult};
use infra_runtime::Value;

use crate::connection::Connection;
use crate::shell::quote;
use crate::{failed, with_fingerprint, Ssh};

/// The exit status of the create script when the user exists already.
const EXISTS: u32 = 20;

/// The exit status of the keys script when `~/.ssh` is a symbolic link or not a
/// directory the user owns (the script prints the path).
const UNSAFE_SSH_DIR: u32 = 21;

/// The exit status of the keys script when `mv -T` would not rename the new keys over
/// `~/.ssh/authorized_keys` (a directory there, or a link to one BusyBox's `mv` refuses;
/// the script prints the path and removes its temporary file).
const KEYS_NOT_REPLACED: u32 = 22;

/// The exit status of a script when the user's home directory (or, moving it, the new
/// one) is not one root works in: the script prints the path, a newline and why:
/// `link`, `not-directory`, `owner` (neither the user's nor root's) or `relative`.
const UNSAFE_HOME: u32 = 23;

/// The exit status of the keys script when the home or `~/.ssh`, once entered, was not
/// the directory at its path: a link (or another directory) took its place meanwhile.
/// The script prints the path, a newline and where it led; nothing was changed there.
const SWAPPED: u32 = 24;

/// The shell functions the scripts check paths with: `bad PATH WHY` prints both and exits
/// with `UNSAFE_HOME`; `nolink PATH` refuses a symbolic link at `PATH`.
///
/// `nolink` is what stands between `useradd -m` or `usermod -m` and a link: checked
/// immediately before the tool runs, which then works by path (`useradd` makes the home
/// and chowns it, `usermod -m` renames or copies the old home to the new path and
/// removes the old one). A link put there after the check, in the instant before the
/// tool looks, is not seen: only someone who may write in the directory that holds the
/// home can, and such a home is never safe from them (they may rename it away).
fn check_functions() -> String {
    format!(
        "bad() {{ printf '%s\\n%s' \"$1\" \"$2\"; exit {UNSAFE_HOME}; }}\nnolink() {{ [ ! -L \"$1\" ] || bad \"$1\" link; }}\n"
    )
}

/// `path` without trailing slashes (`/` stays `/`): with one, the server follows a
/// symbolic link at the path, and `[ -L ]` would not see it.
fn without_trailing_slashes(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" if path.starts_with('/') => "/",
        trimmed => trimmed,
    }
}

/// Sets `as` to the command prefix that runs a command as the user `$u` when the script
/// runs as root (`setpriv`), so the kernel's permissions, not checks of ours, keep what
/// the user links to out of reach; empty when the script runs as another user already.
const AS_USER: &str = "if [ \"$(id -u)\" -eq 0 ]; then \
     as=\"setpriv --reuid=$(id -u -- \"$u\") --regid=$(id -g -- \"$u\") --init-groups --\"; else as=; fi\n";

/// What the server has of a user.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Account {
    pub uid: f64,
    pub group: String,
    pub groups: Vec<String>,
    pub shell: String,
    pub home: String,
    /// The key lines of `~/.ssh/authorized_keys` (blank lines and comments left out).
    pub authorized_keys: Vec<String>,
    /// Whether the password ages: `useradd` sets a maximum age for ordinary users and
    /// none for system users (`--system`), which is how an import tells them apart.
    pub aging: bool,
}

fn strings(items: &[String]) -> Value {
    Value::list(items.iter().map(|item| Value::string(item.clone())).collect())
}

fn list(attributes: &Attributes, name: &str) -> Option<Vec<String>> {
    attribute(attributes, name)
        .as_list()
        .map(|items| items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect())
}

/// The checks the schema cannot make: `groups` that name a group twice or the primary
/// group (the server lists each once, and the primary apart, so the plan would show a
/// change forever), and `authorized_keys` entries that are not one public key each.
pub fn validate(config: &Attributes) -> Vec<ProviderError> {
    let mut errors = Vec::new();
    let groups = list(config, "groups").unwrap_or_default();
    let primary = attribute(config, "group").as_str();
    for (index, group) in groups.iter().enumerate() {
        if groups[..index].contains(group) {
            errors.push(
                ProviderError::new(format!("`groups` lists `{group}` twice"))
                    .on_attribute("groups")
                    .with_help("list each group once; `distinct(...)` removes repeats"),
            );
        } else if Some(group.as_str()) == primary {
            errors.push(
                ProviderError::new(format!("`groups` lists `{group}`, the user's primary `group`"))
                    .on_attribute("groups")
                    .with_help("`groups` are the other groups the user is in: leave the primary group out"),
            );
        }
    }
    for key in list(config, "authorized_keys").unwrap_or_default() {
        if let Err(error) = check_key_line(&key) {
            errors.push(error.on_attribute("authorized_keys"));
        }
    }
    errors
}

/// The key types an authorized_keys line may hold.
const KEY_TYPES: [&str; 8] = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss",
];

/// One authorized_keys line: `[OPTIONS] TYPE BASE64 [COMMENT]`, the key readable.
fn check_key_line(line: &str) -> ProviderResult<()> {
    let line = line.trim();
    if line.contains('\n') {
        return Err(ProviderError::new(format!(
            "an entry of `authorized_keys` holds {} lines; each entry is one key",
            line.lines().count()
        ))
        .with_help(
            "give one key per entry; for a file of several keys: `authorized_keys = split(\"\\n\", trimspace(file(\"keys.pub\")))`",
        ));
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let typed = words.iter().position(|word| KEY_TYPES.contains(word));
    let key = typed.and_then(|at| words.get(at + 1));
    let readable = key.is_some_and(|key| russh::keys::parse_public_key_base64(key).is_ok());
    if readable {
        return Ok(());
    }
    let shown: String = line.chars().take(40).collect();
    Err(ProviderError::new(format!("`{shown}` is not a public key line")).with_help(
        "an entry is a line of authorized_keys or a .pub file: `ssh-ed25519 AAAA... comment`, options first if any",
    ))
}

pub fn plan(schema: &Schema, prior: Option<&Attributes>, config: &Attributes) -> Attributes {
    plan_attributes(schema, prior, config, &[("system", Value::bool(false))])
}

/// The script that prints, for each user, `@INDEX`, then (when it exists) its passwd
/// entry, primary group, groups and key lines. The keys are read as the user, and a
/// link at `authorized_keys` is no file: nothing the user could not read, such as
/// `/etc/shadow` through a link, reaches the plan or the state.
fn read_script(names: &[String]) -> String {
    let words: Vec<String> = names.iter().map(|n| quote(n)).collect();
    format!(
        r#"i=0
for u in {}; do
  echo "@$i"
  if e=$(getent passwd -- "$u"); then
    echo "passwd $e"
    echo "group $(id -gn -- "$u")"
    echo "groups $(id -Gn -- "$u")"
    echo "aging $(getent shadow -- "$u" | cut -d: -f5)"
    h=$(printf '%s' "$e" | cut -d: -f6)
    f="$h/.ssh/authorized_keys"
    {AS_USER}    if [ -f "$f" ] && [ ! -L "$f" ]; then $as sed 's/^/key /' "$f"; fi
  fi
  i=$((i+1))
done
"#,
        words.join(" ")
    )
}

fn parse_read(text: &str, count: usize) -> Vec<Option<Account>> {
    let mut accounts: Vec<Option<Account>> = vec![None; count];
    let mut current: Option<usize> = None;
    for line in text.lines() {
        if let Some(index) = line.strip_prefix('@') {
            current = index.parse().ok().filter(|i| *i < count);
            continue;
        }
        let (Some(index), Some((tag, rest))) = (current, line.split_once(' ')) else { continue };
        let account = accounts[index].get_or_insert_with(Account::default);
        match tag {
            "passwd" => {
                let fields: Vec<&str> = rest.split(':').collect();
                if let [_, _, uid, _, _, home, shell] = fields[..] {
                    account.uid = uid.parse().unwrap_or(0.0);
                    account.home = home.to_string();
                    account.shell = shell.to_string();
                }
            }
            "group" => account.group = rest.trim().to_string(),
            "groups" => account.groups = rest.split_whitespace().map(str::to_string).collect(),
            "aging" => account.aging = !rest.trim().is_empty(),
            "key" => {
                let key = rest.trim();
                if !key.is_empty() && !key.starts_with('#') {
                    account.authorized_keys.push(key.to_string());
                }
            }
            _ => {}
        }
    }
    // `id -Gn` lists the primary group first: `groups` are the others.
    for account in accounts.iter_mut().flatten() {
        let primary = account.group.clone();
        account.groups.retain(|group| *group != primary);
    }
    accounts
}

async fn read_all(connection: &Connection, names: Vec<String>) -> ProviderResult<Vec<Option<Account>>> {
    let output = crate::read_batch(connection, &read_script(&names), "users").await?;
    Ok(parse_read(&output, names.len()))
}

/// `attributes` with what the server has.
fn with_account(mut attributes: Attributes, account: &Account) -> Attributes {
    attributes.insert("uid".to_string(), Value::number(account.uid));
    attributes.insert("group".to_string(), Value::string(account.group.clone()));
    attributes.insert("shell".to_string(), Value::string(account.shell.clone()));
    attributes.insert("home".to_string(), Value::string(account.home.clone()));
    attributes.insert("groups".to_string(), strings(&account.groups));
    attributes.insert("authorized_keys".to_string(), strings(&account.authorized_keys));
    attributes
}

async fn account(ssh: &Ssh, connection: &std::sync::Arc<Connection>, name: &str) -> ProviderResult<Option<Account>> {
    let reader = connection.clone();
    ssh.users.get(name, |names| async move { read_all(&reader, names).await }).await
}

pub async fn read(ssh: &Ssh, current: &Attributes) -> ProviderResult<Option<Attributes>> {
    let name = crate::name_of(current)?;
    let connection = ssh.connect(Some(current)).await?;
    let Some(found) = account(ssh, &connection, &name).await? else { return Ok(None) };
    Ok(Some(with_fingerprint(with_account(current.clone(), &found), &connection)))
}

/// The options `useradd` and `usermod` share, for what `attributes` set (`groups` as
/// given, even empty, so `usermod -G ''` leaves only the primary group).
fn options(attributes: &Attributes, moving_home: bool) -> Vec<String> {
    let mut options = Vec::new();
    if let Some(uid) = attribute(attributes, "uid").as_number() {
        options.push(format!("-u {uid}"));
    }
    for (name, flag) in [("group", "-g"), ("shell", "-s")] {
        if let Some(value) = attribute(attributes, name).as_str() {
            options.push(format!("{flag} {}", quote(value)));
        }
    }
    if let Some(home) = attribute(attributes, "home").as_str() {
        options.push(format!("-d {}", quote(home)));
        if moving_home {
            options.push("-m".to_string());
        }
    }
    if let Some(groups) = list(attributes, "groups") {
        options.push(format!("-G {}", quote(&groups.join(","))));
    }
    options
}

/// The script that writes the exact `authorized_keys` (from standard input) into the
/// user's home, owned by the user; nothing when the keys are not managed.
///
/// Root makes the home when it is missing (`mkdir -p`, as before: root's), refuses a
/// home that is a symbolic link, not a directory, or neither the user's nor root's, and
/// enters it: `cd -P`, then the physical path of where it stands must be the physical
/// path of the home's parent plus the home's name, i.e. it entered the directory at the
/// path and not one a link led to (`directory.rs`' `script` does the same; `$(cd -P . &&
/// pwd -P)` because dash's `pwd -P` answers what the last `cd` found). From there it
/// checks `.ssh` (refusing a link, or anything but a directory of the user's), makes it
/// when missing (`mkdir` makes a new directory or fails), enters and checks it the same
/// way, and chowns `.`, the directory it stands in, which no later swap of a name can
/// change. Everything in `~/.ssh` is written as the user, so a link the user swaps in
/// after the checks leads only where the user may write. A link at `authorized_keys` is
/// replaced: the rename is `mv -T`, so a directory there fails the write instead of
/// receiving the file.
fn keys_script(attributes: &Attributes) -> String {
    if attribute(attributes, "authorized_keys").as_list().is_none() {
        return String::new();
    }
    format!(
        r#"h=$(getent passwd -- "$u" | cut -d: -f6)
case $h in /*) h=$(printf '%s' "$h" | sed 's:/*$::'); h=${{h:-/}} ;; *) bad "$h" relative ;; esac
d="${{h%/}}/.ssh"
i=$(id -u -- "$u"); g=$(id -g -- "$u")
if [ ! -e "$h" ] && [ ! -L "$h" ]; then mkdir -p -- "$h"; fi
nolink "$h"
[ -d "$h" ] || bad "$h" not-directory
n=$(basename -- "$h")
case $n in /) w=/ ;; *) w=$(cd -P -- "$(dirname -- "$h")" && pwd -P); w=${{w%/}}/$n ;; esac
here() {{ c=$(cd -P . && pwd -P) && [ "$c" = "$1" ] || {{ printf '%s\n%s' "$2" "$c"; exit {SWAPPED}; }}; }}
cd -P -- "$h"
here "$w" "$h"
o=$(stat -c %u .); [ "$o" = "$i" ] || [ "$o" = 0 ] || bad "$h" owner
if [ -L .ssh ] || {{ [ -e .ssh ] && {{ [ ! -d .ssh ] || [ "$(stat -c %u .ssh)" != "$i" ]; }}; }}; then printf '%s' "$d"; exit {UNSAFE_SSH_DIR}; fi
m=; if [ ! -e .ssh ]; then mkdir -m 700 .ssh; m=1; fi
cd -P .ssh
here "${{w%/}}/.ssh" "$d"
if [ -n "$m" ]; then chown -h -- "$i:$g" .; fi
if [ "$(stat -c %u .)" != "$i" ]; then printf '%s' "$d"; exit {UNSAFE_SSH_DIR}; fi
{AS_USER}$as sh -c 'set -e; chmod 700 -- "$1"; t=$(mktemp "$1/.authorized_keys.XXXXXX"); cat > "$t"; chmod 600 -- "$t"; if ! mv -fT -- "$t" "$1/authorized_keys"; then rm -f -- "$t"; printf %s "$1/authorized_keys"; exit {KEYS_NOT_REPLACED}; fi' sh "$d"
"#
    )
}

fn keys_input(attributes: &Attributes) -> Vec<u8> {
    let keys = list(attributes, "authorized_keys").unwrap_or_default();
    keys.iter().map(|key| format!("{}\n", key.trim())).collect::<String>().into_bytes()
}

/// Runs `script` for the user in `attributes` (`u` is its name) with the keys on
/// standard input, then reads the user back.
async fn run(ssh: &Ssh, attributes: &Attributes, script: String, what: &str) -> ProviderResult<Attributes> {
    run_reporting(ssh, attributes, script, what, None).await
}

/// [`run`], telling `progress` of a user the script made when a later step of it failed
/// (the keys refused, say): the user exists, so the state records it and the next plan
/// reads it and applies the rest, instead of finding a user it does not know of and
/// asking for an import.
async fn run_reporting(
    ssh: &Ssh,
    attributes: &Attributes,
    script: String,
    what: &str,
    progress: Option<&CreateProgress>,
) -> ProviderResult<Attributes> {
    let name = crate::name_of(attributes)?;
    let connection = ssh.connect(Some(attributes)).await?;
    let script = format!("set -e\nu={}\n{}{script}{}", quote(&name), check_functions(), keys_script(attributes));
    let output = connection.run(&script, Some(&keys_input(attributes)), None).await?;
    if let (Some(progress), false) = (progress, matches!(output.exit_code, Some(0) | Some(EXISTS))) {
        if let Ok(Some(found)) = read_all(&connection, vec![name.clone()]).await.map(|mut all| all.remove(0)) {
            let mut made = with_account(attributes.clone(), &found);
            made.insert("id".to_string(), Value::string(&name));
            progress.exists(with_fingerprint(made, &connection));
        }
    }
    match output.exit_code {
        Some(0) => {}
        Some(EXISTS) => {
            return Err(ProviderError::new(format!("the user `{name}` exists on the server already"))
                .on_attribute("name")
                .with_help(format!("import it: `infra import ADDRESS {name}`")))
        }
        Some(UNSAFE_SSH_DIR) => {
            let path = output.stdout_text();
            return Err(ProviderError::new(format!(
                "`{path}` is a symbolic link, or not a directory the user `{name}` owns: Infra does not write \
                 the user's authorized_keys there"
            ))
            .on_attribute("authorized_keys")
            .with_help(format!(
                "make it a directory of the user's (`rm {path} && install -d -m 700 -o {name} {path}`), \
                 or leave `authorized_keys` out"
            )));
        }
        Some(UNSAFE_HOME) => return Err(unsafe_home(&name, &output.stdout_text())),
        Some(SWAPPED) => return Err(swapped(&output.stdout_text())),
        Some(KEYS_NOT_REPLACED) => {
            let path = output.stdout_text();
            return Err(ProviderError::new(format!(
                "`{path}` could not be replaced by the user `{name}`'s keys ({}): nothing was written",
                crate::shell::tail(&output.stderr_text())
            ))
            .on_attribute("authorized_keys")
            .with_help(format!(
                "`{path}` must be a file or missing: move what is there (a directory, or a link to one) out of the \
                 way and apply again"
            )));
        }
        _ => return Err(failed(&format!("{what} the user `{name}`"), &output).on_attribute("name")),
    }
    let found = read_all(&connection, vec![name.clone()]).await?.remove(0);
    let found =
        found.ok_or_else(|| ProviderError::new(format!("the user `{name}` is not on the server after {what}")))?;
    let mut applied = with_account(attributes.clone(), &found);
    applied.insert("id".to_string(), Value::string(name));
    Ok(with_fingerprint(applied, &connection))
}

/// The error for a home directory root does not work in: `answer` is the path, a newline
/// and why (see `UNSAFE_HOME`).
fn unsafe_home(name: &str, answer: &str) -> ProviderError {
    let (path, why) = answer.split_once('\n').unwrap_or((answer, ""));
    let shown = quote(path);
    let (what, help) = match why.trim() {
        "link" => (
            "is a symbolic link".to_string(),
            format!(
                "someone who may write in the directory that holds it may have put it there, to make Infra make, \
                 move or chown directories elsewhere as root: look at it (`ls -ld -- {shown}`); if the link is \
                 yours, set `home` to the directory it points at (`readlink -f -- {shown}`), else remove it; then \
                 apply again"
            ),
        ),
        "owner" => (
            format!("is owned by neither `{name}` nor root"),
            format!(
                "whoever owns it could put links in it: look at it (`ls -ld -- {shown}`); if it is the user's, \
                 `chown {name} {shown}`, and apply again"
            ),
        ),
        "relative" => ("is not an absolute path".to_string(), "set `home` to an absolute path".to_string()),
        _ => (
            "is not a directory".to_string(),
            format!("move what is there out of the way (`ls -ld -- {shown}`), and apply again"),
        ),
    };
    ProviderError::new(format!(
        "the home directory `{path}` of the user `{name}` {what}: Infra makes, moves and changes nothing through it"
    ))
    .on_attribute("home")
    .with_help(help)
}

/// The error when the home or `~/.ssh` led elsewhere once entered: `answer` is the path,
/// a newline and where it led. Nothing was changed there.
fn swapped(answer: &str) -> ProviderError {
    let (path, led_to) = answer.split_once('\n').unwrap_or((answer, ""));
    let led = if led_to.trim().is_empty() { String::new() } else { format!(" (it led to `{}`)", led_to.trim()) };
    ProviderError::new(format!(
        "`{path}` on the server was replaced by a link while Infra worked in it{led}; nothing was changed through it"
    ))
    .on_attribute(if path.ends_with("/.ssh") { "authorized_keys" } else { "home" })
    .with_help(format!(
        "someone else may write in the directory that holds it: look at what is there now (`ls -ld -- {}`), make \
         that directory writable only by its owner (or sticky), and apply again",
        quote(path)
    ))
}

pub async fn create(ssh: &Ssh, planned: &Attributes, progress: &CreateProgress) -> ProviderResult<Attributes> {
    let system = attribute(planned, "system").as_bool() == Some(true);
    let mut options = options(planned, false);
    if system {
        options.push("--system".to_string());
    }
    // An ordinary user gets its home made; a system user only when `home` is set (left
    // out, the plan holds it unknown: the server's answer is recorded after).
    if !system || attribute(planned, "home").as_str().is_some() {
        options.push("-m".to_string());
    }
    // A link at `home` is refused right before `useradd`, which would otherwise leave it
    // (it exists) and the keys be written where it leads; a link put there later, before
    // `useradd` looks, is not seen (see `check_functions`), but the keys script's checks
    // refuse it.
    let home =
        attribute(planned, "home").as_str().map(|home| format!("nolink {}\n", quote(without_trailing_slashes(home))));
    let script = format!(
        "if getent passwd -- \"$u\" >/dev/null; then exit {EXISTS}; fi\n{}useradd {} -- \"$u\"\n",
        home.unwrap_or_default(),
        options.join(" ")
    );
    run_reporting(ssh, planned, script, "creating", Some(progress)).await
}

pub async fn update(ssh: &Ssh, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
    let moving_home = !attribute(prior, "home").equals(attribute(planned, "home"));
    // Only what changed is passed: `usermod -d` of the same home with `-m` fails.
    let mut changed = Attributes::new();
    for name in ["uid", "group", "shell", "home", "groups"] {
        if !attribute(prior, name).equals(attribute(planned, name)) {
            changed.insert(name.to_string(), attribute(planned, name).clone());
        }
    }
    let options = options(&changed, moving_home);
    // `usermod -m` renames the old home to the new path (or copies it there and removes
    // it, across file systems) by path, as root. Debian 12's fails to move the home from
    // or onto a link ("cannot rename directory", "directory ... exists"), but has written
    // the new path into the user's entry by then: the link would be the home, and the
    // keys script (before these checks) made the directory it points at. So a link at
    // the old or the new home is refused right before `usermod` runs, which then changes
    // nothing (the window left is in `check_functions`).
    let moving = match attribute(&changed, "home").as_str() {
        Some(home) if moving_home => format!(
            "o=$(getent passwd -- \"$u\" | cut -d: -f6 | sed 's:/*$::')\n[ -z \"$o\" ] || nolink \"$o\"\nnolink {}\n",
            quote(without_trailing_slashes(home))
        ),
        _ => String::new(),
    };
    let script =
        if options.is_empty() { String::new() } else { format!("{moving}usermod {} -- \"$u\"\n", options.join(" ")) };
    run(ssh, planned, script, "changing").await
}

/// Deletes the user; its home directory stays (it may hold data), without its
/// authorized_keys, so a later user of the same name is not let in by them.
pub async fn delete(ssh: &Ssh, current: &Attributes) -> ProviderResult<()> {
    let name = crate::name_of(current)?;
    let connection = ssh.connect(Some(current)).await?;
    let script = format!(
        "set -e\nu={}\ne=$(getent passwd -- \"$u\") || exit 0\nd=\"$(printf '%s' \"$e\" | cut -d: -f6)/.ssh\"\n\
         {AS_USER}[ -L \"$d\" ] || $as rm -f -- \"$d/authorized_keys\"\nuserdel -- \"$u\"\n",
        quote(&name)
    );
    let output = connection.run(&script, None, None).await?;
    if output.succeeded() {
        Ok(())
    } else {
        Err(failed(&format!("deleting the user `{name}`"), &output).on_attribute("name"))
    }
}

/// The user `id` (its name) as it is, its groups and keys managed from now on.
pub async fn import(ssh: &Ssh, id: &str) -> ProviderResult<Attributes> {
    let connection = ssh.connect(None).await?;
    let Some(found) = account(ssh, &connection, id).await? else {
        return Err(ProviderError::new(format!("there is no user `{id}` on the server")));
    };
    let mut imported = Attributes::new();
    imported.insert("id".to_string(), Value::string(id));
    imported.insert("name".to_string(), Value::string(id));
    imported.insert("system".to_string(), Value::bool(!found.aging));
    Ok(with_fingerprint(with_account(imported, &found), &connection))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_answer_gives_each_user_or_none() {
        let text = "@0\npasswd deploy:x:1001:1001::/home/deploy:/bin/bash\ngroup deploy\ngroups deploy www-data sudo\n\
                    key ssh-ed25519 AAAA one\nkey \nkey # comment\n@1\n";
        let accounts = parse_read(text, 2);
        let deploy = accounts[0].clone().expect("deploy");
        assert_eq!(deploy.uid, 1001.0);
        assert_eq!(deploy.groups, ["www-data", "sudo"]);
        assert_eq!(deploy.authorized_keys, ["ssh-ed25519 AAAA one"]);
        assert_eq!(accounts[1], None);
    }

    #[test]
    fn an_unsafe_home_is_named_with_why() {
        let error = unsafe_home("deploy", "/srv/pub/deploy\nlink").message;
        assert!(
            error.contains("the home directory `/srv/pub/deploy` of the user `deploy` is a symbolic link"),
            "{error}"
        );
        let error = unsafe_home("deploy", "/srv/pub/deploy\nowner").message;
        assert!(error.contains("is owned by neither `deploy` nor root"), "{error}");
        let error = swapped("/home/deploy/.ssh\n/root/.ssh");
        assert_eq!(error.attribute.as_deref(), Some("authorized_keys"));
        let error = error.message;
        assert!(error.contains("`/home/deploy/.ssh` on the server was replaced by a link"), "{error}");
        assert!(error.contains("(it led to `/root/.ssh`)"), "{error}");
        assert_eq!(without_trailing_slashes("/srv/x//"), "/srv/x");
        assert_eq!(without_trailing_slashes("///"), "/");
    }
}
