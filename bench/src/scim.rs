//! The SCIM data and rows (v3): people with seats on 1, 50 and 300 licences
//! whom the identity provider deactivates, and a directory of 10,000 people
//! searched by `userName`. Set up through the functions' own handlers, as an
//! admin and an identity provider would.

use lambda_http::{Body, Response};
use licensing::App;
use licensing_tests::{admin, bare_request};
use serde_json::{Value, json};

use crate::fixtures::{addresses, assign_each, provision};
use crate::measure::{Call, Minimum};
use crate::scenarios::{Group, Samples, Scenario, scenario};

/// A customer's SCIM token and the people to deactivate, one per call.
pub struct Deactivations {
    pub licences: usize,
    pub token: String,
    /// `/scim/v2/Users/{id}` of each person, each with a seat on every licence.
    pub people: Vec<String>,
}

pub struct ScimFixture {
    pub deactivations: Vec<Deactivations>,
    /// A customer with [`DIRECTORY`] people: its token and one userName.
    pub directory_token: String,
    pub directory_size: usize,
    pub user_name: String,
}

/// The directory the `userName eq` row searches.
const DIRECTORY: usize = 10_000;

fn json_of(response: Response<Body>) -> Value {
    match response.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// A SCIM token of `customer`'s, made by its admin through `/tokens`.
async fn scim_token(app: &App, customer: &str) -> String {
    let body = json!({"name": "bench", "scopes": ["scim"]}).to_string();
    let req = licensing_tests::request("POST", "/tokens", Some(&admin(customer)), Some(&body));
    let created = json_of(licensing::api::tokens::handle(app, req).await);
    created["token"].as_str().expect("a token").to_string()
}

/// A SCIM request with `token` as its bearer, as the identity provider sends it.
fn scim(method: &str, path: &str, token: &str, body: Option<Value>) -> Call {
    let body = body.map(|b| b.to_string());
    let mut req = bare_request(method, path, Some(token), body.as_deref());
    req.headers_mut().insert("content-type", "application/scim+json".parse().unwrap());
    Call::Http("scim", Box::new(req))
}

/// Creates `email` in the token's directory; its SCIM path.
async fn create_person(app: &App, token: &str, email: &str) -> String {
    let person = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "emails": [{"value": email, "type": "work", "primary": true}],
        "active": true
    });
    let Call::Http(_, req) = scim("POST", "/scim/v2/Users", token, Some(person)) else {
        unreachable!()
    };
    let response = licensing::api::scim::handle(app, *req).await;
    let status = response.status();
    let created = json_of(response);
    let id = created["id"].as_str().unwrap_or_else(|| panic!("{status}: {created}"));
    format!("/scim/v2/Users/{id}")
}

impl ScimFixture {
    /// `people` per licence count: every call deactivates another one.
    pub async fn set_up(app: &App, people: usize) -> Self {
        let mut deactivations = Vec::new();
        for licences in [1, 50, 300] {
            let customer = format!("bench-scim-{licences}");
            let emails = addresses(&format!("scim{licences}"), people);
            let mut ids = Vec::with_capacity(licences);
            for i in 0..licences {
                let order = format!("ORD-S{licences}-{i}-{}", ulid::Ulid::new());
                let buyer = format!("buyer@{customer}.example.com");
                ids.push(provision(app, &order, &customer, &buyer, people as u32 + 1).await);
            }
            assign_each(app, &admin(&customer), &ids, json!(emails)).await;
            let token = scim_token(app, &customer).await;
            let mut paths = Vec::with_capacity(people);
            for email in &emails {
                paths.push(create_person(app, &token, email).await);
            }
            deactivations.push(Deactivations { licences, token, people: paths });
        }
        let directory_token = scim_token(app, "bench-scim-directory").await;
        let names = addresses("dir", DIRECTORY);
        // The directory through the use case (the identity provider's 20
        // requests a second would take minutes), four writers at a time, each
        // write again if DynamoDB Local turned a transaction away.
        let machine = licensing::usecase::tokens::Machine {
            customer_id: "bench-scim-directory".into(),
            token_id: "tok_bench".into(),
        };
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in names.chunks(DIRECTORY / 4) {
            let (app, machine, chunk) = (app.clone(), machine.clone(), chunk.to_vec());
            tasks.spawn(async move {
                for email in &chunk {
                    let person = licensing::model::DirectoryUser {
                        user_name: email.clone(),
                        ..Default::default()
                    };
                    let create =
                        || licensing::usecase::directory::create(&app, &machine, person.clone());
                    let mut tries = 0;
                    while let Err(e) = create().await {
                        tries += 1;
                        assert!(tries < 5, "{email}: {e}");
                    }
                }
            });
        }
        tasks.join_all().await;
        let user_name = names[DIRECTORY / 2].clone();
        Self { deactivations, directory_token, directory_size: DIRECTORY, user_name }
    }

    /// The SCIM rows.
    pub fn rows(&self, samples: Samples, lookups: Samples) -> Vec<Scenario<'_>> {
        const AUTH: &str = "GetItem the token's digest, UpdateItem its request budget";
        let mut rows = Vec::new();
        for d in &self.deactivations {
            let n = d.licences;
            let reads = n.div_ceil(100);
            let minimum = Minimum::once_a_minute(
                5 + reads + n,
                format!(
                    "{AUTH}, GetItem the person, Query the customer's licences (consistent), \
                     {reads} BatchGetItem the address's items, {n} TransactWriteItems (one a licence, \
                     8 at a time), TransactWriteItems the person"
                ),
            );
            let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                    "Operations": [{"op": "replace", "value": {"active": false}}]});
            let licences = if n == 1 { "licence" } else { "licences" };
            let name = format!("SCIM deactivation, seats on {n} {licences}");
            rows.push(scenario(&name, Group::Scaling, samples, 200, minimum, move |i| {
                scim("PATCH", &d.people[i], &d.token, Some(deactivate.clone()))
            }));
        }
        let filter = format!("userName eq \"{}\"", self.user_name);
        let path = format!("/scim/v2/Users?filter={}", urlencode(&filter));
        let name = format!("SCIM userName eq, directory of {}", self.directory_size);
        let minimum = Minimum::once_a_minute(3, format!("{AUTH}, GetItem the userName's item"));
        rows.push(scenario(&name, Group::Scaling, lookups, 200, minimum, move |_| {
            scim("GET", &path, &self.directory_token, None)
        }));
        rows
    }
}

fn urlencode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
