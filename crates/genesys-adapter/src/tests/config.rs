//! Configuration: regions by name or domain, base URLs derived or given, limits checked.

use secrecy::SecretString;

use crate::config::{GenesysConfig, Region};

#[track_caller]
fn check_region(input: &str, expect: Result<(&str, &str), &str>) {
    let got = input.parse::<Region>();
    match (got, expect) {
        (Ok(region), Ok((name, domain))) => {
            assert_eq!((region.name(), region.domain()), (name, domain));
        }
        (Err(e), Err(fragment)) => {
            let text = e.to_string();
            assert!(text.contains(fragment), "{text}");
            assert!(
                text.starts_with("invalid configuration: unknown region"),
                "{text}"
            );
        }
        (got, expect) => panic!("{input}: got {got:?}, expected {expect:?}"),
    }
}

#[test]
fn regions_parse_by_name_or_domain() {
    check_region("us-east-1", Ok(("us-east-1", "mypurecloud.com")));
    check_region("us_east_1", Ok(("us-east-1", "mypurecloud.com")));
    check_region("EU_WEST_1", Ok(("eu-west-1", "mypurecloud.ie")));
    check_region(" eu-west-1 ", Ok(("eu-west-1", "mypurecloud.ie")));
    check_region("mypurecloud.ie", Ok(("eu-west-1", "mypurecloud.ie")));
    check_region("me_central_1", Ok(("me-central-1", "mec1.pure.cloud")));
    check_region("ap-northeast-3", Ok(("ap-northeast-3", "apne3.pure.cloud")));
    check_region(
        "eusc_de_east_1",
        Ok(("eusc-de-east-1", "edee1.eusc-pure.cloud")),
    );
    check_region(
        "mypurecloud.com.au",
        Ok(("ap-southeast-2", "mypurecloud.com.au")),
    );
    check_region("eu-west-9", Err("'eu-west-9'"));
    check_region("", Err("''"));
    check_region("api.mypurecloud.ie", Err("'api.mypurecloud.ie'"));
}

#[test]
fn every_region_round_trips_through_both_spellings() {
    assert_eq!(Region::ALL.len(), 18);
    for region in Region::ALL {
        assert_eq!(region.name().parse::<Region>().unwrap(), *region);
        assert_eq!(
            region.name().replace('-', "_").parse::<Region>().unwrap(),
            *region
        );
        assert_eq!(region.domain().parse::<Region>().unwrap(), *region);
        assert_eq!(region.to_string(), region.name());
    }
}

fn config(api_base: &str, login_base: Option<&str>) -> GenesysConfig {
    let mut config = GenesysConfig::new(Region::default(), "id", SecretString::from("s3cr3t"));
    api_base.clone_into(&mut config.api_base);
    config.login_base = login_base.map(str::to_owned);
    config
}

#[track_caller]
fn check_bases(api_base: &str, login_base: Option<&str>, expect: Result<(&str, &str), &str>) {
    let got = config(api_base, login_base).validate();
    match (got, expect) {
        (Ok(endpoints), Ok((api, login))) => {
            assert_eq!(endpoints.api_url("/api/v2/x").as_str(), api);
            assert_eq!(endpoints.login_url("/oauth/token").as_str(), login);
        }
        (Err(e), Err(fragment)) => assert!(e.to_string().contains(fragment), "{e}"),
        (got, expect) => panic!("{api_base}: got {got:?}, expected {expect:?}"),
    }
}

#[test]
fn login_base_is_derived_or_overridden() {
    check_bases(
        "https://api.mypurecloud.ie",
        None,
        Ok((
            "https://api.mypurecloud.ie/api/v2/x",
            "https://login.mypurecloud.ie/oauth/token",
        )),
    );
    check_bases(
        "https://api.mypurecloud.ie/",
        None,
        Ok((
            "https://api.mypurecloud.ie/api/v2/x",
            "https://login.mypurecloud.ie/oauth/token",
        )),
    );
    check_bases(
        "http://127.0.0.1:8123",
        None,
        Ok((
            "http://127.0.0.1:8123/api/v2/x",
            "http://127.0.0.1:8123/oauth/token",
        )),
    );
    check_bases(
        "http://localhost:9/prefix/",
        Some("http://127.0.0.1:7"),
        Ok((
            "http://localhost:9/prefix/api/v2/x",
            "http://127.0.0.1:7/oauth/token",
        )),
    );
    // Only a leading `api.` label is replaced.
    check_bases(
        "https://myapi.example.com",
        None,
        Ok((
            "https://myapi.example.com/api/v2/x",
            "https://myapi.example.com/oauth/token",
        )),
    );
    check_bases(
        "api.mypurecloud.ie",
        None,
        Err("invalid API base 'api.mypurecloud.ie'"),
    );
    check_bases(
        "ftp://x.example",
        None,
        Err("invalid API base 'ftp://x.example'"),
    );
    check_bases(
        "https://api.mypurecloud.ie",
        Some("https://login.x?y=1"),
        Err("invalid login base"),
    );
}

#[test]
fn limits_must_be_positive() {
    let mut c = config("https://api.mypurecloud.com", None);
    c.concurrency = 0;
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "invalid configuration: concurrency must be above zero"
    );
    let mut c = config("https://api.mypurecloud.com", None);
    c.queues_per_request = 101;
    assert!(c.validate().unwrap_err().to_string().contains("not 101"));
    let mut c = config("https://api.mypurecloud.com", None);
    c.client_secret = SecretString::from("");
    assert!(
        c.validate()
            .unwrap_err()
            .to_string()
            .contains("secret is empty")
    );
}

#[test]
fn debug_hides_the_secret() {
    let c = config("https://api.mypurecloud.com", None);
    let text = format!("{c:?} {c:#?}");
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(text.contains("REDACTED"), "{text}");
}
