//! The flattened table of a DSG dataset: one row per observation with the feature's
//! id, time, latitude, longitude, depth and every observed variable (physical values;
//! missing data as NaN), filtered by the selection clauses as rows are made. Clauses on
//! the id and coordinates are tested from the feature index before any data is read.

use super::super::error::Dap2Error;
use super::constraint::{Op, Operand, SeqConstraint};
use crate::features::{ArraySource, DsgError, Feature, FeatureIndex, read_observations};
use crate::model::Variable;
use crate::model::cf::CfDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Id,
    Time,
    X,
    Y,
    Z,
    /// An observed variable: its index in the schema's data variables.
    Data(usize),
}

/// One column: its name (the variable's), where its values come from, and the
/// variable whose attributes describe it.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub source: Source,
    pub var: Option<Variable>,
}

impl Column {
    pub fn is_string(&self) -> bool {
        self.source == Source::Id
    }

    /// Single precision: an unpacked float variable, sent as Float32 so that values
    /// read back exactly as stored.
    pub fn is_single(&self) -> bool {
        self.var.as_ref().is_some_and(|v| {
            v.dtype == crate::model::DataType::F32 && !crate::model::cf::Packing::of(v).is_packed()
        })
    }

    pub fn dap2_type(&self) -> &'static str {
        if self.is_string() {
            "String"
        } else if self.is_single() {
            "Float32"
        } else {
            "Float64"
        }
    }
}

/// The columns of a dataset's table, in order: id, time, lat, lon, z, data.
pub fn columns(index: &FeatureIndex) -> Vec<Column> {
    let s = &index.schema;
    let mut out = vec![Column {
        name: s
            .id
            .as_ref()
            .map_or("feature_id".to_string(), |v| v.name.clone()),
        source: Source::Id,
        var: s.id.clone(),
    }];
    let mut push = |v: &Option<Variable>, source| {
        if let Some(v) = v {
            out.push(Column {
                name: v.name.clone(),
                source,
                var: Some(v.clone()),
            });
        }
    };
    push(&s.t, Source::Time);
    push(&Some(s.y.clone()), Source::Y);
    push(&Some(s.x.clone()), Source::X);
    push(&s.z, Source::Z);
    for (i, v) in s.data.iter().enumerate() {
        push(&Some(v.clone()), Source::Data(i));
    }
    out
}

/// One value of a row.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Text(&'a str),
    Num(f64),
    /// A Float32 column's value.
    Single(f32),
}

/// What receives the rows that pass (an encoder).
pub trait RowSink: Send {
    fn row(&mut self, cells: &[Cell<'_>]);
    /// Bytes written so far (to stop at the response size limit).
    fn len(&self) -> usize;
    /// Called after each feature's rows: a streaming sink sends what it holds.
    fn flush(&mut self) -> Result<(), Dap2Error> {
        Ok(())
    }
}

#[derive(Debug, Clone)]
enum Value {
    Num(f64),
    Text(String),
}

#[derive(Debug, Clone)]
struct Test {
    col: usize,
    op: Op,
    value: Value,
}

impl Test {
    fn passes(&self, cell: Cell<'_>) -> bool {
        let ord = match (cell, &self.value) {
            (Cell::Num(x), Value::Num(v)) => x.partial_cmp(v),
            (Cell::Single(x), Value::Num(v)) => (x as f64).partial_cmp(v),
            (Cell::Text(s), Value::Text(v)) => Some(s.cmp(v.as_str())),
            (Cell::Text(s), Value::Num(v)) => {
                s.trim().parse::<f64>().ok().and_then(|x| x.partial_cmp(v))
            }
            (Cell::Num(_) | Cell::Single(_), Value::Text(_)) => None,
        };
        // NaN (missing) compares with nothing: no clause holds for it.
        ord.is_some_and(|o| self.op.holds(o))
    }
}

/// The columns sent and the tests applied, resolved against the table.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Indices of the sent columns, in table order (DAP2 sends in DDS order).
    pub out: Vec<usize>,
    tests: Vec<Test>,
}

impl Plan {
    /// Whether rows are selected (otherwise every observation is a row).
    pub fn selects(&self) -> bool {
        !self.tests.is_empty()
    }
}

/// The `.dods` size of every row of the table (exact when nothing is selected, an
/// upper bound otherwise): start marker, numbers, strings with their count and padding.
pub fn dods_bytes(index: &FeatureIndex, cols: &[Column], plan: &Plan) -> u64 {
    index
        .features
        .iter()
        .map(|f| {
            let row: u64 = 4 + plan
                .out
                .iter()
                .map(|&c| {
                    if cols[c].is_string() {
                        4 + f.id.len().div_ceil(4) as u64 * 4
                    } else if cols[c].is_single() {
                        4
                    } else {
                        8
                    }
                })
                .sum::<u64>();
            row.saturating_mul(f.len() as u64)
        })
        .fold(0u64, u64::saturating_add)
}

pub fn plan(index: &FeatureIndex, cols: &[Column], ce: &SeqConstraint) -> Result<Plan, Dap2Error> {
    let find = |name: &str| {
        cols.iter().position(|c| c.name == name).ok_or_else(|| {
            let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
            Dap2Error::BadRequest(format!(
                "no column {name:?} in the sequence; it has {}",
                names.join(", ")
            ))
        })
    };
    let mut out = Vec::new();
    for name in &ce.projection {
        out.push(find(name)?);
    }
    out.sort_unstable();
    if out.is_empty() {
        out = (0..cols.len()).collect();
    }
    let mut tests = Vec::new();
    for c in &ce.clauses {
        let col = find(&c.column)?;
        let value = match (&c.value, cols[col].source) {
            // Times may be given as dates: compared in the time variable's units.
            (Operand::Text(t), Source::Time) => {
                let units = index.time_units.as_ref().ok_or_else(|| {
                    Dap2Error::BadRequest(format!(
                        "{}: the time has no units to compare a date with",
                        c.column
                    ))
                })?;
                let date = CfDateTime::parse(t).map_err(|_| {
                    Dap2Error::BadRequest(format!("{}: {t:?} is not a date", c.column))
                })?;
                Value::Num(
                    units
                        .encode(&date)
                        .map_err(|e| Dap2Error::BadRequest(e.to_string()))?,
                )
            }
            (Operand::Text(t), Source::Id) => Value::Text(t.clone()),
            (Operand::Text(t), _) => {
                return Err(Dap2Error::BadRequest(format!(
                    "{}: a number column compared with the string {t:?}",
                    c.column
                )));
            }
            (Operand::Num(v), _) => Value::Num(*v),
        };
        tests.push(Test {
            col,
            op: c.op,
            value,
        });
    }
    Ok(Plan { out, tests })
}

fn coord_cell<'a>(f: &'a Feature, source: Source, k: usize) -> Option<Cell<'a>> {
    Some(match source {
        Source::Id => Cell::Text(&f.id),
        Source::Time => Cell::Num(f.t(k)),
        Source::X => Cell::Num(f.x(k)),
        Source::Y => Cell::Num(f.y(k)),
        Source::Z => Cell::Num(f.z(k)),
        Source::Data(_) => return None,
    })
}

/// Writes every row passing the plan's tests into `sink`, feature by feature; fails
/// once the output exceeds `max_bytes`.
pub async fn write(
    src: &dyn ArraySource,
    index: &FeatureIndex,
    cols: &[Column],
    plan: &Plan,
    sink: &mut dyn RowSink,
    max_bytes: usize,
) -> Result<(), Dap2Error> {
    let dsg = |e: DsgError| {
        use crate::error::Kinded;
        Dap2Error::of_kind(e.kind(), e.public_message())
    };
    // The data columns sent or tested, read per feature.
    let mut needed: Vec<usize> = plan.out.clone();
    needed.extend(plan.tests.iter().map(|t| t.col));
    needed.sort_unstable();
    needed.dedup();
    let data_cols: Vec<usize> = needed
        .into_iter()
        .filter(|&c| matches!(cols[c].source, Source::Data(_)))
        .collect();
    for f in &index.features {
        // Tests on the id once per feature, then on the coordinates, from the index.
        let id_passes = plan
            .tests
            .iter()
            .filter(|t| cols[t.col].source == Source::Id)
            .all(|t| t.passes(Cell::Text(&f.id)));
        if !id_passes {
            continue;
        }
        let kept: Vec<usize> = (0..f.len())
            .filter(|&k| {
                plan.tests
                    .iter()
                    .all(|t| match coord_cell(f, cols[t.col].source, k) {
                        Some(cell) => t.passes(cell),
                        None => true,
                    })
            })
            .collect();
        if kept.is_empty() {
            continue;
        }
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); cols.len()];
        for &c in &data_cols {
            let Source::Data(d) = cols[c].source else {
                continue;
            };
            let var = &index.schema.data[d];
            values[c] = read_observations(src, index, f, var, &kept)
                .await
                .map_err(dsg)?;
        }
        let single: Vec<bool> = cols.iter().map(Column::is_single).collect();
        let cell = |c: usize, j: usize, k: usize| -> Cell<'_> {
            let cell = coord_cell(f, cols[c].source, k)
                .unwrap_or_else(|| Cell::Num(values[c].get(j).copied().unwrap_or(f64::NAN)));
            match cell {
                Cell::Num(v) if single[c] => Cell::Single(v as f32),
                other => other,
            }
        };
        let mut row: Vec<Cell<'_>> = Vec::with_capacity(plan.out.len());
        for (j, &k) in kept.iter().enumerate() {
            if !plan.tests.iter().all(|t| t.passes(cell(t.col, j, k))) {
                continue;
            }
            row.clear();
            row.extend(plan.out.iter().map(|&c| cell(c, j, k)));
            sink.row(&row);
        }
        if sink.len() > max_bytes {
            return Err(Dap2Error::TooLarge {
                size: Some(sink.len() as u64),
                limit: max_bytes as u64,
            });
        }
        sink.flush()?;
    }
    Ok(())
}
