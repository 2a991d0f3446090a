//! Turns the result lines of `scripts/bench.sh` (`server=NAME scenario=... key=value ...`) into
//! a Markdown table with ratios: ours / socketioxide, ours / Node, ours / bare limit (the
//! better of the bare servers for each figure). A figure measured several times (repeated runs)
//! is the median of its runs. With both `cluster-remote` and `cluster-local`, a line under the
//! table gives each server's cross-node / local server CPU per delivery.
//!
//! ```text
//! table RESULTS_FILE
//! ```

use std::collections::HashMap;

const OURS: &str = "tower-socketio";
const SOCKETIOXIDE: &str = "socketioxide";
const NODE: &str = "node";
const BARE: [&str; 2] = ["bare-tungstenite", "bare-fastwebsockets"];

/// One figure of a scenario: its key in the result line, its label, and whether more is better.
struct Figure {
    key: &'static str,
    label: &'static str,
    higher_is_better: bool,
}

const fn figure(key: &'static str, label: &'static str, higher_is_better: bool) -> Figure {
    Figure {
        key,
        label,
        higher_is_better,
    }
}

fn figures(scenario: &str) -> Vec<Figure> {
    match scenario {
        "idle" => vec![figure("kb_per_connection", "kB per connection", false)],
        "connect" => vec![
            figure("ops_per_s", "connections/s", true),
            figure(
                "server_cpu_per_op_us",
                "server CPU µs per connection",
                false,
            ),
            figure("p99_us", "p99 connect µs", false),
        ],
        "ack" | "polling" => vec![
            figure("ops_per_s", "acks/s", true),
            figure("server_cpu_per_op_us", "server CPU µs per ack", false),
            figure("p50_us", "p50 round trip µs", false),
            figure("p99_us", "p99 round trip µs", false),
        ],
        "cluster" | "cluster-rooms" => vec![
            figure("ops_per_s", "deliveries/s", true),
            figure(
                "cpu_per_op_us",
                "server CPU µs per delivery (both nodes)",
                false,
            ),
            figure(
                "cpu_per_op_a_us",
                "node A (sender's) CPU µs per delivery it made",
                false,
            ),
            figure(
                "cpu_per_op_b_us",
                "node B CPU µs per delivery it made",
                false,
            ),
        ],
        "cluster-local" | "cluster-remote" => vec![
            figure("ops_per_s", "deliveries/s", true),
            figure(
                "cpu_per_op_us",
                "server CPU µs per delivery (both nodes)",
                false,
            ),
        ],
        _ => vec![
            figure("ops_per_s", "deliveries/s", true),
            figure("server_cpu_per_op_us", "server CPU µs per delivery", false),
        ],
    }
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: table RESULTS_FILE");
    let text = std::fs::read_to_string(&path).expect("results file");
    let mut results: HashMap<(String, String), HashMap<String, Vec<f64>>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for line in text.lines() {
        let fields: HashMap<&str, &str> = line
            .split_whitespace()
            .filter_map(|f| f.split_once('='))
            .collect();
        let (Some(server), Some(scenario)) = (fields.get("server"), fields.get("scenario")) else {
            continue;
        };
        if !order.iter().any(|s| s == scenario) {
            order.push(scenario.to_string());
        }
        let runs = results
            .entry((server.to_string(), scenario.to_string()))
            .or_default();
        for (key, value) in &fields {
            if let Ok(value) = value.parse::<f64>() {
                runs.entry(key.to_string()).or_default().push(value);
            }
        }
    }
    println!(
        "| scenario | figure | {OURS} | {SOCKETIOXIDE} | {NODE} | {} | {} | ours / socketioxide | ours / Node | ours / bare |",
        BARE[0], BARE[1]
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for scenario in &order {
        for figure in figures(scenario) {
            let get = |server: &str| {
                results
                    .get(&(server.to_string(), scenario.clone()))
                    .and_then(|v| v.get(figure.key))
                    .map(|runs| median(runs))
            };
            let cell = |v: Option<f64>| {
                v.map(|v| {
                    // The cluster scenarios' CPU figures are read in nanoseconds.
                    if scenario.starts_with("cluster") && figure.key != "ops_per_s" && v < 100.0 {
                        format!("{v:.3}")
                    } else {
                        format_number(v)
                    }
                })
                .unwrap_or_else(|| "n/a".into())
            };
            let ratio = |ours: Option<f64>, other: Option<f64>| match (ours, other) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
                _ => "n/a".into(),
            };
            let bare = BARE.iter().filter_map(|s| get(s)).reduce(|a, b| {
                if figure.higher_is_better {
                    a.max(b)
                } else {
                    a.min(b)
                }
            });
            let ours = get(OURS);
            println!(
                "| {scenario} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                figure.label,
                cell(ours),
                cell(get(SOCKETIOXIDE)),
                cell(get(NODE)),
                cell(get(BARE[0])),
                cell(get(BARE[1])),
                ratio(ours, get(SOCKETIOXIDE)),
                ratio(ours, get(NODE)),
                ratio(ours, bare),
            );
        }
    }
    let cpu = |server: &str, scenario: &str| {
        results
            .get(&(server.to_string(), scenario.to_string()))
            .and_then(|v| v.get("cpu_per_op_us"))
            .map(|runs| median(runs))
    };
    let cross: Vec<String> = [OURS, SOCKETIOXIDE, NODE]
        .iter()
        .filter_map(
            |server| match (cpu(server, "cluster-remote"), cpu(server, "cluster-local")) {
                (Some(remote), Some(local)) if local > 0.0 => {
                    Some(format!("{server} {:.2}x", remote / local))
                }
                _ => None,
            },
        )
        .collect();
    if !cross.is_empty() {
        println!();
        println!(
            "Cross-node / local server CPU per delivery (cluster-remote / cluster-local, both nodes): {}",
            cross.join(", ")
        );
    }
}

fn median(runs: &[f64]) -> f64 {
    let mut sorted = runs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

fn format_number(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
