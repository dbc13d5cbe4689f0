//! Access decisions over a catalog with an aggregation, and the Basic sign-in path.

use super::*;
use crate::config::AccessRule;

fn config(rules: &[(&str, &[&str])]) -> Config {
    Config {
        access: rules
            .iter()
            .map(|(d, a)| AccessRule {
                datasets: d.to_string(),
                allow: a.iter().map(|s| s.to_string()).collect(),
            })
            .collect(),
        ..Config::default()
    }
}

#[test]
fn nothing_configured_is_all_public() {
    let (access, problems) = Access::new(&Config::default());
    assert!(problems.is_empty());
    assert!(!access.enabled());
    let catalog =
        Catalog::from_config(&Config::default(), Arc::new(crate::metrics::Metrics::new())).0;
    assert_eq!(
        access.decide(&Principal::Anonymous, "any", &catalog),
        Decision::Public
    );
}

#[test]
fn a_bad_rule_closes_everything() {
    let (access, problems) = Access::new(&config(&[("a/[", &["authenticated"])]));
    assert_eq!(problems.len(), 1);
    let catalog =
        Catalog::from_config(&Config::default(), Arc::new(crate::metrics::Metrics::new())).0;
    let alice = Principal::User {
        name: "alice".into(),
        groups: vec![],
    };
    assert_eq!(access.decide(&alice, "x.nc", &catalog), Decision::Denied);
}

#[tokio::test]
async fn basic_credentials_and_failures() {
    let dir = tempfile::tempdir().unwrap();
    let hash = bcrypt::hash("pw", 4).unwrap();
    std::fs::write(dir.path().join("users"), format!("alice:{hash}\n")).unwrap();
    let mut cfg = config(&[("secret/**", &["user:alice"])]);
    cfg.base_dir = dir.path().to_path_buf();
    cfg.auth.users_file = Some("users".into());
    cfg.auth.max_failures = 2;
    let access = Arc::new(Access::new(&cfg).0);
    let basic = |u: &str, p: &str| {
        let mut h = HeaderMap::new();
        let v = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        h.insert(header::AUTHORIZATION, format!("Basic {v}").parse().unwrap());
        h
    };
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    assert_eq!(
        access.authenticate(&HeaderMap::new(), Some(ip)).await,
        Ok(Principal::Anonymous)
    );
    let alice = access.authenticate(&basic("alice", "pw"), Some(ip)).await;
    assert!(matches!(alice, Ok(Principal::User { ref name, .. }) if name == "alice"));
    // The cached pair still checks the password.
    assert!(matches!(
        access.authenticate(&basic("alice", "pw2"), Some(ip)).await,
        Err(AuthError::Invalid(_))
    ));
    assert!(matches!(
        access.authenticate(&basic("mallory", "pw"), Some(ip)).await,
        Err(AuthError::Invalid(_))
    ));
    // Two failures: the address is refused, even with the right password...
    assert_eq!(
        access.authenticate(&basic("alice", "pw"), Some(ip)).await,
        Err(AuthError::TooManyFailures)
    );
    // ...but not another address.
    let other: IpAddr = "192.0.2.2".parse().unwrap();
    assert!(
        access
            .authenticate(&basic("alice", "pw"), Some(other))
            .await
            .is_ok()
    );
    let mut bearer = HeaderMap::new();
    bearer.insert(header::AUTHORIZATION, "Bearer abc.def.ghi".parse().unwrap());
    assert!(matches!(
        access.authenticate(&bearer, Some(other)).await,
        Err(AuthError::InvalidToken(_))
    ));
}

#[test]
fn the_issue_contract_parses_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("users.htpasswd"), "").unwrap();
    let mut cfg = Config::parse(
        r#"
[auth]
users_file = "users.htpasswd"
[[auth.oidc]]
issuer = "https://idp.example.org/realms/ocean"
jwks_url = "https://idp.example.org/realms/ocean/protocol/openid-connect/certs"
audience = "datagate"
groups_claim = "groups"
[[access]]
datasets = "restricted/**"
allow = ["user:alice", "group:ocean-team", "authenticated"]
"#,
    )
    .unwrap();
    cfg.base_dir = dir.path().to_path_buf();
    assert!(cfg.problems().is_empty(), "{:?}", cfg.problems());
    let (access, problems) = Access::new(&cfg);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(access.enabled());
    assert_eq!(access.challenges().len(), 2);
    cfg.access[0].allow.push("admins".into());
    cfg.access.push(AccessRule {
        datasets: "[".into(),
        allow: vec![],
    });
    cfg.auth.users_file = Some("missing".into());
    assert_eq!(cfg.problems().len(), 3, "{:?}", cfg.problems());
}
