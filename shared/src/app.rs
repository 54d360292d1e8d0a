//! What a function builds once, outside its handler: the DynamoDB client,
//! the table, the identity mode and the clock.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

use crate::http::identity::AuthMode;
use crate::store::Store;

#[derive(Clone, Debug)]
pub struct App {
    pub store: Store,
    pub auth: AuthMode,
    /// Seconds added to the system clock. Always 0 in the functions; tests
    /// move it to act later in time (a cooldown that has passed, a budget
    /// window that has ended) against the same table.
    pub clock_offset: i64,
    /// Addresses a customer may put through assign per minute, dry runs
    /// included (`ASSIGN_BUDGET_PER_MINUTE`, default 5,000).
    pub assign_budget: u32,
    /// CSV exports a customer may make per minute (`EXPORT_BUDGET_PER_MINUTE`,
    /// default 10).
    pub export_budget: u32,
    /// SCIM requests a provisioning token may make per second (the
    /// contract's 20; only the bench raises it, still paying the count).
    pub scim_budget: u32,
    /// Webhooks' queue, key and bus: only the functions that use them
    /// build them (`webhooks`), so no other function pays for the clients.
    pub outbound: Option<std::sync::Arc<crate::outbound::Outbound>>,
}

pub const DEFAULT_ASSIGN_BUDGET: u32 = 5_000;
pub const DEFAULT_EXPORT_BUDGET: u32 = 10;

pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Builds an SDK client from the standard environment variables, without
/// aws-config's provider chain: Lambda hands the function its credentials and
/// region in the environment, and skipping the chain keeps cold starts short.
/// Timeouts fail fast into a 503 the client can retry, rather than hanging
/// until API Gateway's 30 s timeout.
macro_rules! sdk_client {
    ($sdk:ident, $endpoint:expr_2021) => {
        sdk_client!($sdk, $endpoint, |config| config)
    };
    ($sdk:ident, $endpoint:expr_2021, $customize:expr_2021) => {{
        use $sdk::config::{
            BehaviorVersion, Credentials, Region, retry::RetryConfig, timeout::TimeoutConfig,
        };
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "eu-central-1".into());
        let credentials = Credentials::new(
            env("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "local".into()),
            env("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| "local".into()),
            env("AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        let mut config = $sdk::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(credentials)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(1))
                    .operation_attempt_timeout(Duration::from_secs(3))
                    .operation_timeout(Duration::from_secs(8))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .http_client(https_client());
        if let Some(url) = $endpoint {
            config = config.endpoint_url(url);
        }
        $sdk::Client::from_conf(customize(config, $customize).build())
    }};
}

/// The Amazon Trust Services roots (Amazon Root CA 1-4 and the Starfield
/// Services G2 root that cross-signs them): every AWS service endpoint's
/// certificate chains to one of them.
const AWS_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// The SDK's default HTTPS client (hyper 1, rustls, aws-lc), trusting the
/// embedded Amazon roots instead of loading the platform's whole store (one
/// bundle plus ~150 files, parsed during init). `TLS_NATIVE_ROOTS=1` trusts
/// the platform store as well, e.g. behind a TLS-inspecting proxy.
fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let native =
        env("TLS_NATIVE_ROOTS").is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    let trust = TrustStore::empty().with_native_roots(native).with_pem_certificate(AWS_ROOTS);
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a TLS context from embedded roots");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

fn customize<B>(builder: B, f: impl FnOnce(B) -> B) -> B {
    f(builder)
}

/// The DynamoDB client (`AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local).
pub fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    dynamodb_client_at(env("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| env("AWS_ENDPOINT_URL")))
}

/// The same client, with an explicit endpoint (`None`: the AWS default).
pub fn dynamodb_client_at(endpoint: Option<String>) -> aws_sdk_dynamodb::Client {
    sdk_client!(aws_sdk_dynamodb, endpoint)
}

/// The same client with one more SDK interceptor (the bench counts and
/// times DynamoDB round trips with one).
pub fn dynamodb_client_with(
    endpoint: Option<String>,
    interceptor: impl aws_sdk_dynamodb::config::Intercept + 'static,
) -> aws_sdk_dynamodb::Client {
    sdk_client!(aws_sdk_dynamodb, endpoint, |config: aws_sdk_dynamodb::config::Builder| {
        config.interceptor(interceptor)
    })
}

/// The SES v2 client (`AWS_ENDPOINT_URL_SESV2` for the local emulator).
pub fn ses_client() -> aws_sdk_sesv2::Client {
    ses_client_at(env("AWS_ENDPOINT_URL_SESV2").or_else(|| env("AWS_ENDPOINT_URL")))
}

pub fn ses_client_at(endpoint: Option<String>) -> aws_sdk_sesv2::Client {
    sdk_client!(aws_sdk_sesv2, endpoint)
}

/// The SQS client of the webhook queue (`AWS_ENDPOINT_URL_SQS` locally).
pub fn sqs_client(endpoint: Option<String>) -> aws_sdk_sqs::Client {
    sdk_client!(aws_sdk_sqs, endpoint)
}

/// The KMS client that seals and opens webhook secrets.
pub fn kms_client(endpoint: Option<String>) -> aws_sdk_kms::Client {
    sdk_client!(aws_sdk_kms, endpoint)
}

/// The EventBridge client of the account's event bus.
pub fn eventbridge_client(endpoint: Option<String>) -> aws_sdk_eventbridge::Client {
    sdk_client!(aws_sdk_eventbridge, endpoint)
}

impl App {
    pub fn new(store: Store, auth: AuthMode) -> Self {
        let (assign_budget, export_budget) = (DEFAULT_ASSIGN_BUDGET, DEFAULT_EXPORT_BUDGET);
        let scim_budget = crate::usecase::budget::SCIM_PER_SECOND;
        Self {
            store,
            auth,
            clock_offset: 0,
            assign_budget,
            export_budget,
            scim_budget,
            outbound: None,
        }
    }

    /// The same app with webhooks' services.
    pub fn with_outbound(self, outbound: crate::outbound::Outbound) -> Self {
        Self { outbound: Some(std::sync::Arc::new(outbound)), ..self }
    }

    /// The same app, `seconds` later.
    pub fn later(&self, seconds: i64) -> Self {
        Self { clock_offset: self.clock_offset + seconds, ..self.clone() }
    }

    /// `TABLE_NAME` (default `licensing`), `ASSIGN_BUDGET_PER_MINUTE`,
    /// `EXPORT_BUDGET_PER_MINUTE`, `AUTH_MODE` (local builds only), and the
    /// AWS variables.
    pub fn from_env() -> Self {
        let table = env("TABLE_NAME").unwrap_or_else(|| "licensing".into());
        let mut app = Self::new(Store::new(dynamodb_client(), table), AuthMode::from_env());
        if let Some(budget) = env("ASSIGN_BUDGET_PER_MINUTE").and_then(|b| b.parse().ok()) {
            app.assign_budget = budget;
        }
        if let Some(budget) = env("EXPORT_BUDGET_PER_MINUTE").and_then(|b| b.parse().ok()) {
            app.export_budget = budget;
        }
        app
    }

    /// Now, to the second (the contract's timestamps carry no fractions).
    pub fn now(&self) -> DateTime<Utc> {
        (Utc::now() + chrono::Duration::seconds(self.clock_offset)).trunc_subsecs(0)
    }

    /// "Today" is the UTC date.
    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}
