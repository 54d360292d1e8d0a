//! An SDK interceptor that counts DynamoDB round trips (attempts that went on
//! the wire) and measures the wall time during which at least one call was in
//! flight, from just before the request is transmitted until the attempt is
//! finished (response received, read and deserialised by the SDK).
//! Overlapping calls (a `tokio::join!`, parallel BatchGetItem chunks) count
//! once in the time, so `handler time − DynamoDB time` is what the handler
//! spends outside DynamoDB.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

#[derive(Default)]
struct State {
    calls: Vec<&'static str>,
    in_flight: u32,
    since: Option<Instant>,
    busy: Duration,
}

/// What the probe saw since the last [`Probe::take`].
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// Operation names, one per attempt on the wire.
    pub calls: Vec<&'static str>,
    /// Wall time with at least one DynamoDB call in flight.
    pub busy: Duration,
}

#[derive(Clone, Default)]
pub struct Probe(Arc<Mutex<State>>);

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Probe")
    }
}

#[derive(Debug, Clone)]
struct OnTheWire;

impl Storable for OnTheWire {
    type Storer = StoreReplace<Self>;
}

fn static_name(name: &str) -> &'static str {
    // A handful of distinct operation names: leak each once.
    static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap();
    if let Some(n) = names.iter().find(|n| **n == name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.push(leaked);
    leaked
}

impl Probe {
    /// Everything seen since the last call, and a fresh start.
    pub fn take(&self) -> Seen {
        let mut s = self.0.lock().unwrap();
        Seen { calls: std::mem::take(&mut s.calls), busy: std::mem::take(&mut s.busy) }
    }
}

impl Intercept for Probe {
    fn name(&self) -> &'static str {
        "BenchProbe"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name = cfg.load::<Metadata>().map(|m| static_name(m.name())).unwrap_or("?");
        cfg.interceptor_state().store_put(OnTheWire);
        let mut s = self.0.lock().unwrap();
        s.calls.push(name);
        if s.in_flight == 0 {
            s.since = Some(Instant::now());
        }
        s.in_flight += 1;
        Ok(())
    }

    fn read_after_attempt(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<OnTheWire>().is_none() {
            return Ok(());
        }
        cfg.interceptor_state().unset::<OnTheWire>();
        let mut s = self.0.lock().unwrap();
        s.in_flight -= 1;
        if s.in_flight == 0 {
            if let Some(since) = s.since.take() {
                s.busy += since.elapsed();
            }
        }
        Ok(())
    }
}
