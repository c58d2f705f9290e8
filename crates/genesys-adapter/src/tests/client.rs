//! Building the client: usable as shared ports, and bad configuration refused up front.

use std::sync::Arc;

use secrecy::SecretString;
use sla_core::ports::{QueueDirectory, TallySource};

use crate::tests::{SECRET, client};
use crate::{GenesysClient, GenesysConfig, Region, ScriptedTransport};

#[test]
fn the_client_is_usable_as_shared_ports() {
    fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<GenesysClient>();
    let transport = ScriptedTransport::new();
    let (client, _, _) = client(&transport, |_| {});
    let _tallies: Arc<dyn TallySource> = Arc::new(client.clone());
    let _visits: Arc<dyn sla_core::ports::VisitSource> = Arc::new(client.clone());
    let _queues: Arc<dyn QueueDirectory> = Arc::new(client);
}

#[test]
fn bad_configuration_is_refused_at_construction() {
    let mut config = GenesysConfig::new(Region::default(), "id", SecretString::from(SECRET));
    config.max_requests_per_minute = 0;
    let err = GenesysClient::new(config).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid configuration: max requests per minute must be above zero"
    );
    let config = GenesysConfig::new(
        "eu-west-1".parse().unwrap(),
        "id",
        SecretString::from(SECRET),
    );
    assert!(
        format!("{:?}", GenesysClient::new(config).unwrap())
            .contains("https://login.mypurecloud.ie/")
    );
}
