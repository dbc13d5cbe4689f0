//! Groups of HTTP Basic users from an Apache group file (`AuthGroupFile`): one
//! `group: user1 user2 ...` per line.

use std::collections::HashMap;

/// Each user's groups.
#[derive(Debug, Default)]
pub struct Groups(HashMap<String, Vec<String>>);

impl Groups {
    pub fn parse(text: &str) -> (Groups, Vec<String>) {
        let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
        let mut problems = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once(':') {
                Some((group, users)) if !group.trim().is_empty() => {
                    for user in users.split_whitespace() {
                        by_user
                            .entry(user.to_string())
                            .or_default()
                            .push(group.trim().to_string());
                    }
                }
                _ => problems.push(format!("line {}: not group: user user...; ignored", n + 1)),
            }
        }
        (Groups(by_user), problems)
    }

    pub fn of(&self, user: &str) -> Vec<String> {
        self.0.get(user).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_get_every_group_naming_them() {
        let (g, problems) = Groups::parse("# teams\nocean: alice bob\nice:alice\nnonsense\n");
        assert_eq!(problems.len(), 1);
        assert_eq!(g.of("alice"), vec!["ocean", "ice"]);
        assert_eq!(g.of("bob"), vec!["ocean"]);
        assert!(g.of("carol").is_empty());
    }
}
