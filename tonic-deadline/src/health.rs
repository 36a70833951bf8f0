//! gRPC health checking (`grpc.health.v1.Health`, `Check` and `Watch`, served
//! by tonic-health) tied to a [`Shutdown`]: once the shutdown is asked for,
//! at the start of its lameduck, the server's overall status (`""`) and every
//! service's turn NOT_SERVING, so that Kubernetes' gRPC probes, Envoy and
//! balancing clients (this crate's [`Balanced`](crate::Balanced)) stop
//! sending calls while the server still serves them.
use std::sync::{Arc, Mutex};

use tonic::server::NamedService;
use tonic_health::{
    ServingStatus,
    pb::health_server::{Health as HealthService, HealthServer},
    server::HealthReporter,
};

use crate::{Methods, Shutdown};

/// The health statuses of one server; cheap to clone, every clone the same.
#[derive(Clone, Debug)]
pub struct Health {
    reporter: HealthReporter,
    /// Every service given a status, to turn NOT_SERVING at shutdown
    /// (tonic-health's reporter does not list them).
    services: Arc<Mutex<Vec<String>>>,
    shutdown: Shutdown,
}

impl Health {
    /// The statuses and the `grpc.health.v1.Health` service that serves them;
    /// the overall status `""` is SERVING until `shutdown` is asked for.
    /// Needs a tokio runtime (a task waits for the shutdown).
    pub fn new(shutdown: &Shutdown) -> (Health, HealthServer<impl HealthService>) {
        let (reporter, server) = tonic_health::server::health_reporter();
        let health = Health {
            reporter,
            services: Arc::new(Mutex::new(vec![String::new()])),
            shutdown: shutdown.clone(),
        };
        let at_shutdown = health.clone();
        tokio::spawn(async move {
            at_shutdown.shutdown.requested().await;
            for name in at_shutdown.names() {
                at_shutdown
                    .reporter
                    .set_service_status(name, ServingStatus::NotServing)
                    .await;
            }
        });
        (health, server)
    }

    /// Reports the service `S` (e.g. `GreeterServer<MyGreeter>`) SERVING, or
    /// NOT_SERVING once the shutdown has been asked for.
    pub async fn set_serving<S: NamedService>(&self) {
        self.set_service_serving(S::NAME).await;
    }

    /// The same by the service's full name, e.g. `"demo.v1.Greeter"`.
    pub async fn set_service_serving(&self, name: &str) {
        {
            let mut services = self.services.lock().expect("not poisoned");
            if !services.iter().any(|s| s == name) {
                services.push(name.to_string());
            }
        }
        if !self.shutdown.is_requested() {
            self.reporter
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        // A shutdown asked for meanwhile may have been overtaken by the write above.
        if self.shutdown.is_requested() {
            self.reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
    }

    /// Reports `name` NOT_SERVING (until set serving again), e.g. while a
    /// dependency it cannot do without is down.
    pub async fn set_service_not_serving(&self, name: &str) {
        self.reporter
            .set_service_status(name, ServingStatus::NotServing)
            .await;
    }

    /// tonic-health's reporter, for statuses of your own.
    pub fn reporter(&self) -> &HealthReporter {
        &self.reporter
    }

    /// The health service's methods, for a [`DeadlineLayer`](crate::DeadlineLayer)
    /// in front of it: `Watch` is a stream, which ends at once when the
    /// shutdown proper begins (with the lameduck over) rather than holding the
    /// connection open for the drain time. Add them to your own with
    /// [`Methods::and`].
    pub fn methods() -> Methods {
        Methods::from_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .expect("tonic-health's descriptor set decodes")
    }

    fn names(&self) -> Vec<String> {
        self.services.lock().expect("not poisoned").clone()
    }
}
