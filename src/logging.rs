//! Where logs go and in what form: human-readable text on stderr (the default), or
//! one JSON object a line on stdout for log collectors (`--log-format json` or
//! `DATAGATE_LOG_FORMAT=json`). `RUST_LOG` filters both. With the `otel` feature, spans
//! are also exported to an OpenTelemetry collector (`telemetry.rs`).

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<LogFormat, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("log format {other:?}: give text or json")),
        }
    }
}

impl LogFormat {
    /// The format asked for on the command line, else by `DATAGATE_LOG_FORMAT`.
    pub fn chosen(flag: Option<LogFormat>) -> Result<LogFormat, String> {
        match (flag, std::env::var("DATAGATE_LOG_FORMAT")) {
            (Some(f), _) => Ok(f),
            (None, Ok(v)) if !v.trim().is_empty() => v.parse(),
            _ => Ok(LogFormat::Text),
        }
    }
}

/// What must live until exit: the log writer's last flush, and with the `otel`
/// feature the exporter's flush at drop.
pub struct LogGuard {
    _writer: crate::log_batch::BatchGuard,
    #[cfg(feature = "otel")]
    _telemetry: crate::telemetry::Telemetry,
}

/// Installs the global subscriber; keep the guard until exit.
pub fn init(format: LogFormat) -> LogGuard {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // Lines are appended to a buffer that a writer thread writes in batches every few
    // milliseconds: a request never waits on (or wakes) the writer. Lossy: when the
    // sink falls 16 MiB behind, lines are dropped (and counted) rather than requests
    // slowed.
    let (writer, guard) = match format {
        LogFormat::Text => crate::log_batch::batched(std::io::stderr()),
        LogFormat::Json => crate::log_batch::batched(std::io::stdout()),
    };
    let output = match format {
        // Text goes to stderr: stdout carries only the "listening on" line scripts read.
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .boxed(),
        // Containers' log collectors read stdout; the request span (method, URI) is in
        // each event so a request's line is self-contained.
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(writer)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    };
    let registry = tracing_subscriber::registry().with(output);
    #[cfg(feature = "otel")]
    {
        let (otel, telemetry) = crate::telemetry::layer();
        registry.with(otel).with(filter).init();
        LogGuard {
            _writer: guard,
            _telemetry: telemetry,
        }
    }
    #[cfg(not(feature = "otel"))]
    {
        registry.with(filter).init();
        LogGuard { _writer: guard }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!("JSON".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!(" text ".parse::<LogFormat>(), Ok(LogFormat::Text));
        assert!("xml".parse::<LogFormat>().is_err());
        assert_eq!(
            LogFormat::chosen(Some(LogFormat::Json)),
            Ok(LogFormat::Json)
        );
    }
}
