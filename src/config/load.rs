//! Reading the configuration files: the main file, the files it includes, and each section
//! deserialized on its own so that one mistake does not hide the next.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml::{Table, Value};

use super::{check, Config, ConfigErrors, Problem};

/// A loaded configuration and the path of its main file.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub path: PathBuf,
}

/// Sections that hold one table.
const TABLE_SECTIONS: &[&str] = &[
    "server",
    "sip",
    "media",
    "calendar",
    "deadlines",
    "callers",
    "callbacks",
    "wallboard",
    "urban",
    "notifier",
];
/// Sections that hold an array of tables.
const ARRAY_SECTIONS: &[&str] = &[
    "trunks",
    "numbers",
    "queues",
    "agents",
    "users",
    "departments",
    "grid_cells",
    "routing",
];

/// Loads and checks the configuration rooted at `path`. Returns every problem found.
pub fn load(path: &Path) -> Result<Loaded, ConfigErrors> {
    let mut problems = Vec::new();
    let mut sections: BTreeMap<String, (PathBuf, Value)> = BTreeMap::new();
    let main = match read_table(path) {
        Ok(t) => t,
        Err(p) => return Err(ConfigErrors(vec![p])),
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut files = vec![(path.to_path_buf(), main)];
    if let Some(include) = files[0].1.remove("include") {
        match include {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(rel) => {
                            let file = base.join(rel);
                            match std::fs::read_to_string(&file) {
                                Err(e) => problems.push(problem(
                                    path,
                                    &format!("include[{i}]"),
                                    &format!("cannot read {}: {e}", shown(&file)),
                                )),
                                Ok(text) => match parse_table(&file, &text) {
                                    Ok(t) => files.push((file, t)),
                                    Err(p) => problems.push(p),
                                },
                            }
                        }
                        None => problems.push(problem(
                            path,
                            &format!("include[{i}]"),
                            "must be a file name",
                        )),
                    }
                }
            }
            _ => problems.push(problem(path, "include", "must be a list of file names")),
        }
    }
    // A file that cannot be read or parsed leaves sections out: checking what is left would
    // only report knock-on problems, so stop here.
    if !problems.is_empty() {
        return Err(ConfigErrors(problems));
    }
    for (file, table) in files {
        for (key, value) in table {
            if key == "include" {
                problems.push(problem(
                    &file,
                    &key,
                    "include is allowed only in the main configuration file",
                ));
                continue;
            }
            if !TABLE_SECTIONS.contains(&key.as_str()) && !ARRAY_SECTIONS.contains(&key.as_str()) {
                problems.push(problem(
                    &file,
                    &key,
                    &format!(
                        "unknown section; expected one of: include, {}, {}",
                        TABLE_SECTIONS.join(", "),
                        ARRAY_SECTIONS.join(", ")
                    ),
                ));
                continue;
            }
            if let Some((other, _)) = sections.get(&key) {
                problems.push(problem(
                    &file,
                    &key,
                    &format!("already defined in {}", shown(other)),
                ));
                continue;
            }
            sections.insert(key, (file.clone(), value));
        }
    }

    let mut config = Config::default();
    for (key, (file, _)) in &sections {
        config.sources.insert(key.clone(), file.clone());
    }
    macro_rules! table {
        ($key:literal, $field:ident) => {
            if let Some((file, v)) = sections.remove($key) {
                if let Some(s) = parse_one(&file, $key, v, &mut problems) {
                    config.$field = s;
                }
            }
        };
    }
    table!("server", server);
    table!("sip", sip);
    table!("media", media);
    table!("calendar", calendar);
    table!("deadlines", deadlines);
    table!("callers", callers);
    table!("callbacks", callbacks);
    table!("wallboard", wallboard);
    table!("urban", urban);
    table!("notifier", notifier);
    macro_rules! array {
        ($key:literal, $field:ident) => {
            if let Some((file, v)) = sections.remove($key) {
                config.$field = parse_array(&file, $key, v, &mut problems);
            }
        };
    }
    array!("trunks", trunks);
    array!("numbers", numbers);
    array!("queues", queues);
    array!("agents", agents);
    array!("users", users);
    array!("departments", departments);
    array!("grid_cells", grid_cells);
    array!("routing", routing);

    check::check(&config, &mut problems);
    if problems.is_empty() {
        Ok(Loaded {
            config,
            path: path.to_path_buf(),
        })
    } else {
        Err(ConfigErrors(problems))
    }
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}

fn problem(file: &Path, key: &str, message: &str) -> Problem {
    Problem {
        file: shown(file),
        key: key.to_string(),
        message: message.to_string(),
    }
}

fn read_table(path: &Path) -> Result<Table, Problem> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| problem(path, "", &format!("cannot read: {e}")))?;
    parse_table(path, &text)
}

/// Parses a file's text; a syntax error names the file and the line.
fn parse_table(path: &Path, text: &str) -> Result<Table, Problem> {
    text.parse::<Table>().map_err(|e| {
        let key = match e.span() {
            Some(span) => format!("line {}", text[..span.start].matches('\n').count() + 1),
            None => String::new(),
        };
        problem(path, &key, &format!("not valid TOML: {}", e.message()))
    })
}

fn parse_one<T: DeserializeOwned>(
    file: &Path,
    key: &str,
    value: Value,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match T::deserialize(value) {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(problem(file, key, e.message()));
            None
        }
    }
}

fn parse_array<T: DeserializeOwned>(
    file: &Path,
    key: &str,
    value: Value,
    problems: &mut Vec<Problem>,
) -> Vec<T> {
    let Value::Array(items) = value else {
        problems.push(problem(
            file,
            key,
            &format!("must be an array of tables ([[{key}]])"),
        ));
        return vec![];
    };
    items
        .into_iter()
        .enumerate()
        .filter_map(|(i, v)| parse_one(file, &format!("{key}[{i}]"), v, problems))
        .collect()
}
