//! Where logs go and in what form: human-readable text on stderr (the default), or
//! one JSON object a line on stdout for log collectors (`--log-format json` or
//! `DATAGATE_LOG_FORMAT=json`). `RUST_LOG` filters both.

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

/// Installs the global subscriber.
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tower_http=info".into());
    match format {
        // Text goes to stderr: stdout carries only the "listening on" line scripts read.
        LogFormat::Text => tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_env_filter(filter)
            .init(),
        // Containers' log collectors read stdout; the span fields (method, URI) are
        // flattened into each event so a request's line is self-contained.
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_writer(std::io::stdout)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .init(),
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
