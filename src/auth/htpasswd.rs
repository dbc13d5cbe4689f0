//! HTTP Basic users from an Apache htpasswd file with bcrypt hashes
//! (`htpasswd -B`, or `bcrypt` in Python). Other hash kinds (MD5, SHA-1, crypt) are
//! weak and refused at load.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Users and their bcrypt hashes.
#[derive(Debug, Default)]
pub struct Users {
    hashes: HashMap<String, String>,
    /// Checked for unknown users, so their answer takes as long as a known one's.
    decoy: OnceLock<String>,
}

impl Users {
    /// Parses htpasswd text; problems are per line (the line is skipped), with no
    /// hash or password in them.
    pub fn parse(text: &str) -> (Users, Vec<String>) {
        let mut hashes = HashMap::new();
        let mut problems = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once(':') {
                Some((user, hash)) if is_bcrypt(hash) && !user.is_empty() => {
                    hashes.insert(user.to_string(), hash.to_string());
                }
                Some((user, _)) => problems.push(format!(
                    "line {}: user {user:?} has no bcrypt hash (use htpasswd -B); ignored",
                    n + 1
                )),
                None => problems.push(format!("line {}: not user:hash; ignored", n + 1)),
            }
        }
        (
            Users {
                hashes,
                decoy: OnceLock::new(),
            },
            problems,
        )
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether `password` is `user`'s. Slow on purpose (bcrypt): call it off the async
    /// executor. bcrypt compares in constant time; an unknown user costs the same.
    pub fn verify(&self, user: &str, password: &str) -> bool {
        match self.hashes.get(user) {
            Some(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            None => {
                let decoy = self.decoy.get_or_init(|| {
                    let cost = self.hashes.values().filter_map(|h| cost(h)).max();
                    bcrypt::hash("decoy", cost.unwrap_or(bcrypt::DEFAULT_COST)).unwrap_or_default()
                });
                let _ = bcrypt::verify(password, decoy);
                false
            }
        }
    }
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2y$", "$2b$", "$2a$", "$2x$"]
        .iter()
        .any(|p| hash.starts_with(p))
        && cost(hash).is_some()
}

/// The cost of a `$2y$NN$...` hash.
fn cost(hash: &str) -> Option<u32> {
    hash.get(4..6)?
        .parse()
        .ok()
        .filter(|c| (4..=31).contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_users_verify_and_others_are_refused() {
        let alice = bcrypt::hash("s3cret", 4)
            .unwrap()
            .replacen("$2b$", "$2y$", 1);
        let text = format!(
            "# users\nalice:{alice}\nbob:$apr1$abc$def\ncarol\n\ndave:{}\n",
            bcrypt::hash("pw", 4).unwrap()
        );
        let (users, problems) = Users::parse(&text);
        assert_eq!(users.len(), 2);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| !p.contains("apr1")));
        assert!(users.verify("alice", "s3cret"));
        assert!(!users.verify("alice", "s3cret "));
        assert!(!users.verify("alice", ""));
        assert!(users.verify("dave", "pw"));
        assert!(!users.verify("bob", "anything"));
        assert!(!users.verify("nobody", "s3cret"));
    }
}
