//! `ssh.user`: a user account (`useradd`, `usermod`, `userdel`), its groups and the
//! exact set of keys in its `~/.ssh/authorized_keys`.
//!
//! Drift comes from `getent passwd`, `id` and the authorized_keys file, read for all
//! users of a host with one command (`batch.rs`). Attributes left out (`uid`, `group`,
//! `groups`, `shell`, `home`, `authorized_keys`) are not managed: they are recorded as
//! the server has them.

use infra_compiler::schema::Schema;
use infra_provider_kit::{attribute, plan_attributes};
use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
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
/// Root only checks `~/.ssh` (refusing a link, or anything but a directory of the
/// user's) and makes it when it is missing (`mkdir` makes a new directory or fails);
/// everything in it is written as the user, so a link the user swaps in after the check
/// leads only where the user may write. A link at `authorized_keys` is replaced: the
/// rename is `mv -T`, so a directory there fails the write instead of receiving the file.
fn keys_script(attributes: &Attributes) -> String {
    if attribute(attributes, "authorized_keys").as_list().is_none() {
        return String::new();
    }
    format!(
        "h=$(getent passwd -- \"$u\" | cut -d: -f6)\nd=\"$h/.ssh\"\n\
         if [ -L \"$d\" ] || {{ [ -e \"$d\" ] && {{ [ ! -d \"$d\" ] || [ \"$(stat -c %u -- \"$d\")\" != \"$(id -u -- \"$u\")\" ]; }}; }}; then \
         printf '%s' \"$d\"; exit {UNSAFE_SSH_DIR}; fi\n\
         if [ ! -e \"$d\" ]; then mkdir -p -- \"$h\"; mkdir -m 700 -- \"$d\"; chown -h -- \"$(id -u -- \"$u\"):$(id -g -- \"$u\")\" \"$d\"; fi\n\
         {AS_USER}\
         $as sh -c 'set -e; chmod 700 -- \"$1\"; t=$(mktemp \"$1/.authorized_keys.XXXXXX\"); cat > \"$t\"; chmod 600 -- \"$t\"; \
         if ! mv -fT -- \"$t\" \"$1/authorized_keys\"; then rm -f -- \"$t\"; printf %s \"$1/authorized_keys\"; \
         exit {KEYS_NOT_REPLACED}; fi' sh \"$d\"\n"
    )
}

fn keys_input(attributes: &Attributes) -> Vec<u8> {
    let keys = list(attributes, "authorized_keys").unwrap_or_default();
    keys.iter().map(|key| format!("{}\n", key.trim())).collect::<String>().into_bytes()
}

/// Runs `script` for the user in `attributes` (`u` is its name) with the keys on
/// standard input, then reads the user back.
async fn run(ssh: &Ssh, attributes: &Attributes, script: String, what: &str) -> ProviderResult<Attributes> {
    let name = crate::name_of(attributes)?;
    let connection = ssh.connect(Some(attributes)).await?;
    let script = format!("set -e\nu={}\n{script}{}", quote(&name), keys_script(attributes));
    let output = connection.run(&script, Some(&keys_input(attributes)), None).await?;
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

pub async fn create(ssh: &Ssh, planned: &Attributes) -> ProviderResult<Attributes> {
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
    let script = format!(
        "if getent passwd -- \"$u\" >/dev/null; then exit {EXISTS}; fi\nuseradd {} -- \"$u\"\n",
        options.join(" ")
    );
    run(ssh, planned, script, "creating").await
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
    let script = if options.is_empty() { String::new() } else { format!("usermod {} -- \"$u\"\n", options.join(" ")) };
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
}
