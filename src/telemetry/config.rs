//! The `[telemetry]` section.

use serde::{Deserialize, Serialize};

/// How the hub reports on itself.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Serve Prometheus metrics at `metrics_path`.
    pub metrics: bool,
    /// Where the metrics are served.
    pub metrics_path: String,
    /// Where OpenTelemetry traces are sent, over OTLP/HTTP with JSON bodies
    /// (`http://collector:4318`; `/v1/traces` is added to a URL without a
    /// path). None: no traces are exported.
    pub otlp_endpoint: Option<OtlpEndpoint>,
    /// The `service.name` the traces carry.
    pub service_name: String,
    /// The share of new traces kept, from 0 to 1; a client's own sampling
    /// decision (its `traceparent` flags) is always followed.
    pub trace_sample_ratio: SampleRatio,
    /// How often queued spans are sent, in milliseconds.
    pub otlp_export_ms: u64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            metrics: true,
            metrics_path: "/metrics".into(),
            otlp_endpoint: None,
            service_name: "tellonce".into(),
            trace_sample_ratio: SampleRatio(1.0),
            otlp_export_ms: 5000,
        }
    }
}

/// An `http://` or `https://` URL that traces are posted to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct OtlpEndpoint(String);

impl OtlpEndpoint {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for OtlpEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for OtlpEndpoint {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut url = reqwest::Url::parse(text)
            .map_err(|e| format!("the OTLP endpoint {text:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "the OTLP endpoint {text:?} must be an http:// or https:// URL"
            ));
        }
        if url.path() == "/" {
            url.set_path("/v1/traces");
        }
        Ok(OtlpEndpoint(url.into()))
    }
}

impl TryFrom<String> for OtlpEndpoint {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl From<OtlpEndpoint> for String {
    fn from(endpoint: OtlpEndpoint) -> String {
        endpoint.0
    }
}

/// A sampling ratio between 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct SampleRatio(f64);

impl SampleRatio {
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for SampleRatio {
    type Error = String;

    fn try_from(ratio: f64) -> Result<Self, String> {
        if (0.0..=1.0).contains(&ratio) {
            Ok(SampleRatio(ratio))
        } else {
            Err(format!("the sample ratio {ratio} is not between 0 and 1"))
        }
    }
}

impl From<SampleRatio> for f64 {
    fn from(ratio: SampleRatio) -> f64 {
        ratio.0
    }
}
