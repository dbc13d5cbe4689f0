//! `[[access]]` rules: a glob over dataset ids and the principals it admits. The first
//! rule whose glob matches an id decides; ids no rule matches are public.

use globset::{Glob, GlobBuilder, GlobMatcher};

use super::Principal;
use crate::config::AccessRule;

/// Who a rule lets in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allow {
    User(String),
    Group(String),
    Authenticated,
}

impl Allow {
    pub fn parse(s: &str) -> Result<Allow, String> {
        let s = s.trim();
        if s == "authenticated" {
            return Ok(Allow::Authenticated);
        }
        match s.split_once(':') {
            Some(("user", name)) if !name.is_empty() => Ok(Allow::User(name.into())),
            Some(("group", name)) if !name.is_empty() => Ok(Allow::Group(name.into())),
            _ => Err(format!(
                "{s:?} is not a principal: write user:NAME, group:NAME or authenticated"
            )),
        }
    }

    fn admits(&self, p: &Principal) -> bool {
        let Principal::User { name, groups } = p else {
            return false;
        };
        match self {
            Allow::Authenticated => true,
            Allow::User(u) => u == name,
            // Keycloak writes group paths (`/ocean-team`): either form matches.
            Allow::Group(g) => groups
                .iter()
                .any(|have| have == g || have.strip_prefix('/') == Some(g.as_str())),
        }
    }
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    matcher: GlobMatcher,
    allow: Vec<Allow>,
}

/// Compiles a dataset-id glob: `*` stays within one path segment, `**` crosses them.
pub fn glob(pattern: &str) -> Result<Glob, String> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("access: datasets = {pattern:?}: {e}"))
}

/// The rules in order.
#[derive(Debug, Clone, Default)]
pub struct Rules(Vec<Rule>);

impl Rules {
    pub fn new(config: &[AccessRule]) -> Result<Rules, String> {
        config
            .iter()
            .map(|r| {
                Ok(Rule {
                    matcher: glob(&r.datasets)?.compile_matcher(),
                    allow: r
                        .allow
                        .iter()
                        .map(|a| Allow::parse(a).map_err(|e| format!("access: allow: {e}")))
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect::<Result<_, String>>()
            .map(Rules)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `None` when no rule matches `id` (public); else whether the first matching rule
    /// admits `p`.
    pub fn admits(&self, id: &str, p: &Principal) -> Option<bool> {
        let rule = self.0.iter().find(|r| r.matcher.is_match(id))?;
        Some(rule.allow.iter().any(|a| a.admits(p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(list: &[(&str, &[&str])]) -> Rules {
        Rules::new(
            &list
                .iter()
                .map(|(d, a)| AccessRule {
                    datasets: d.to_string(),
                    allow: a.iter().map(|s| s.to_string()).collect(),
                })
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn user(name: &str, groups: &[&str]) -> Principal {
        Principal::User {
            name: name.into(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn first_matching_rule_decides_and_unmatched_ids_are_public() {
        let r = rules(&[
            ("restricted/open/**", &["authenticated"]),
            ("restricted/**", &["user:alice", "group:ocean-team"]),
        ]);
        let anon = Principal::Anonymous;
        assert_eq!(r.admits("public/a.nc", &anon), None);
        assert_eq!(r.admits("restricted/a.nc", &anon), Some(false));
        assert_eq!(r.admits("restricted/a.nc", &user("alice", &[])), Some(true));
        assert_eq!(r.admits("restricted/a.nc", &user("bob", &[])), Some(false));
        assert_eq!(
            r.admits("restricted/a.nc", &user("bob", &["/ocean-team"])),
            Some(true)
        );
        assert_eq!(
            r.admits("restricted/open/x.nc", &user("bob", &[])),
            Some(true)
        );
        assert_eq!(r.admits("restricted/open/x.nc", &anon), Some(false));
        // `**` needs something below; the bare prefix is another id.
        assert_eq!(r.admits("restricted", &anon), None);
    }

    #[test]
    fn a_prefix_and_everything_below() {
        let r = rules(&[("{restricted,restricted/**}", &["user:a"])]);
        assert_eq!(r.admits("restricted", &Principal::Anonymous), Some(false));
        assert_eq!(
            r.admits("restricted/x/y.nc", &Principal::Anonymous),
            Some(false)
        );
        assert_eq!(r.admits("restricted2", &Principal::Anonymous), None);
    }

    #[test]
    fn star_stays_in_one_segment() {
        let r = rules(&[("embargo/*.nc", &["user:a"])]);
        assert_eq!(r.admits("embargo/x.nc", &Principal::Anonymous), Some(false));
        assert_eq!(r.admits("embargo/sub/x.nc", &Principal::Anonymous), None);
    }

    #[test]
    fn bad_principals_and_globs_are_errors() {
        assert!(Allow::parse("alice").is_err());
        assert!(Allow::parse("user:").is_err());
        assert!(Allow::parse("role:x").is_err());
        assert!(
            Rules::new(&[AccessRule {
                datasets: "a/[".into(),
                allow: vec![]
            }])
            .is_err()
        );
    }
}
