//! Evaluation of model submissions: turning a task's inputs into the
//! sandbox's tensors and the model's outputs into a predictions CSV, which is
//! then scored exactly like an uploaded one.
//!
//! Output layout per metric: classification by label (accuracy, balanced
//! accuracy, macro-F1, mean IoU) takes one score per class and predicts the
//! largest; binary ROC AUC and log loss take one score (the second class);
//! multiclass ROC AUC and log loss one score per class; regression one value.

pub mod child;
pub mod runner;
pub mod wire;

use crate::scoring::MetricKind;
use crate::scoring::records::Records;
use crate::scoring::solution::Format;

pub use crate::scoring::solution::out_cols;

/// Parsed model inputs: ids and row-major f32 features.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// Row ids, in file order.
    pub ids: Vec<String>,
    /// `ids.len() × cols` values.
    pub values: Vec<f32>,
    /// Features per row.
    pub cols: usize,
}

/// Reads an inputs CSV: the id column plus `features` (every other column
/// when empty), in that order. Cells are read in place (no `String` per
/// cell) and numbers parsed from their bytes.
pub fn read_inputs(bytes: &[u8], id_column: &str, features: &[String]) -> Result<Inputs, String> {
    read(bytes, id_column, features, true)
}

/// The row ids of an inputs CSV, in file order, its values not parsed
/// (where a run's outputs are matched to their rows).
pub fn read_ids(bytes: &[u8], id_column: &str) -> Result<Vec<String>, String> {
    read(bytes, id_column, &[], false).map(|inputs| inputs.ids)
}

/// [`read_inputs`], and the values only when `values` is set.
fn read(bytes: &[u8], id_column: &str, features: &[String], values_wanted: bool) -> Result<Inputs, String> {
    let mut records = Records::new(bytes);
    let header: Vec<String> = match records.next_record() {
        Some(Ok(h)) => h.column_names().ok_or("inputs header: not UTF-8")?,
        Some(Err(e)) => return Err(format!("inputs header: {e}")),
        None => Vec::new(),
    };
    let id_idx =
        header.iter().position(|h| h == id_column).ok_or_else(|| format!("inputs: no {id_column:?} column"))?;
    let feat_idx: Vec<usize> = if features.is_empty() {
        (0..header.len()).filter(|&i| i != id_idx).collect()
    } else {
        features
            .iter()
            .map(|f| header.iter().position(|h| h == f).ok_or_else(|| format!("inputs: no feature column {f:?}")))
            .collect::<Result<_, _>>()?
    };
    let rows = memchr::memchr_iter(b'\n', bytes).count();
    let mut ids = Vec::with_capacity(rows);
    let mut values = Vec::with_capacity(if values_wanted { rows.saturating_mul(feat_idx.len()) } else { 0 });
    let mut line = 1;
    while let Some(rec) = records.next_record() {
        let rec = rec.map_err(|e| format!("inputs row {}: {e}", line + 1))?;
        line += 1;
        if rec.len() != header.len() {
            return Err(format!("inputs row {line}: {} fields, the header has {}", rec.len(), header.len()));
        }
        ids.push(rec.text(id_idx).ok_or_else(|| format!("inputs row {line}: the id is not UTF-8"))?.to_owned());
        for &i in feat_idx.iter().filter(|_| values_wanted) {
            let cell = rec.get(i).trim_ascii();
            let v: f32 = fast_float2::parse(cell).map_err(|_| {
                let text = String::from_utf8_lossy(cell);
                format!("inputs row {line}, column {}: {text:?} is not a number", header[i])
            })?;
            values.push(v);
        }
    }
    Ok(Inputs { ids, values, cols: feat_idx.len() })
}

/// The predictions CSV for `outputs` (`ids.len() × out_cols`), in the task's
/// submission format.
pub fn outputs_to_csv(format: &Format, ids: &[String], outputs: &[f32], out_cols: usize) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(format.columns());
    let by_label = matches!(
        format.metric,
        MetricKind::Accuracy | MetricKind::BalancedAccuracy | MetricKind::MacroF1 | MetricKind::MeanIou
    );
    let classes = format.classes.as_deref().unwrap_or_default();
    for (id, row) in ids.iter().zip(outputs.chunks(out_cols.max(1))) {
        let mut rec = vec![id.clone()];
        if by_label {
            let best =
                row.iter().enumerate().fold((0, f32::NEG_INFINITY), |b, (i, &v)| if v > b.1 { (i, v) } else { b }).0;
            rec.push(classes.get(best).cloned().unwrap_or_default());
        } else {
            rec.extend(row.iter().map(|v| v.to_string()));
        }
        let _ = w.write_record(&rec);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(metric: MetricKind, classes: Option<&[&str]>) -> Format {
        Format {
            metric,
            k: None,
            id_column: "id".into(),
            target: "y".into(),
            classes: classes.map(|c| c.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    #[test]
    fn outputs_become_the_tasks_submission_format() {
        let ids = vec!["1".to_owned(), "2".to_owned()];
        let f = format(MetricKind::Accuracy, Some(&["a", "b", "c"]));
        assert_eq!(out_cols(&f).unwrap(), 3);
        assert_eq!(outputs_to_csv(&f, &ids, &[0.1, 0.7, 0.2, 0.9, 0.0, 0.1], 3), "id,y\n1,b\n2,a\n");
        let f = format(MetricKind::RocAuc, Some(&["0", "1"]));
        assert_eq!(out_cols(&f).unwrap(), 1);
        assert_eq!(outputs_to_csv(&f, &ids, &[0.25, 0.5], 1), "id,y\n1,0.25\n2,0.5\n");
        let f = format(MetricKind::LogLoss, Some(&["a", "b", "c"]));
        assert_eq!(outputs_to_csv(&f, &ids[..1], &[0.2, 0.3, 0.5], 3), "id,a,b,c\n1,0.2,0.3,0.5\n");
        assert!(out_cols(&format(MetricKind::MapAtK, None)).is_err());
    }

    #[test]
    fn inputs_are_read_in_feature_order() {
        let inp = read_inputs(b"id,b,a\n7,2,1\n8,4,3\n", "id", &["a".into(), "b".into()]).unwrap();
        assert_eq!(inp.ids, ["7", "8"]);
        assert_eq!(inp.values, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(inp.cols, 2);
        assert!(read_inputs(b"id,a\n1,x\n", "id", &[]).unwrap_err().contains("\"x\" is not a number"));
        // Spaces around cells, quoted cells, CRLF and a missing last newline.
        let inp = read_inputs(b"id, a ,b\r\n\"x,1\", 1.5 ,-2e3\r\n9,\"7\",0", "id", &[]).unwrap();
        assert_eq!(inp.ids, ["x,1", "9"]);
        assert_eq!(inp.values, [1.5, -2000.0, 7.0, 0.0]);
        let err = read_inputs(b"id,a\n1,2\n3\n", "id", &[]).unwrap_err();
        assert!(err.contains("row 3: 1 fields, the header has 2"), "{err}");
        assert_eq!(read_ids(b"id,a\n7,x\n8,2\n", "id").unwrap(), ["7", "8"], "values are not read");
    }
}
