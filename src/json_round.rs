//! Numbers in machine output at the precision they mean (issue 22 item 9): prices to the
//! tick (two decimals: every symbol coach quotes, index points included, trades in
//! cents), costs per share (slippage: a sub-cent amount such as 0.005 $/share is a real
//! setting), R multiples, ratios and percentages to four, so a script reads `-1.95`, not
//! `-1.9499999999999886`. Integers and non-numbers pass through.

use serde::Serialize;
use serde_json::{Map, Number, Value};

/// Fields that hold a price or a price distance (two decimals); every other float is an
/// R multiple, a ratio, a percentage or a cost per share (four decimals). A cost is not
/// a price: `slippage` is charged per side in dollars per share and may be below a cent.
const PRICE_FIELDS: [&str; 13] = [
    "entry",
    "stop",
    "target",
    "fill_price",
    "exit_price",
    "level",
    "reference",
    "fired_price",
    "price",
    "last",
    "zero_gamma_distance",
    "wall_distance",
    "prior_close",
];

/// Decimals of a price.
pub const PRICE_DECIMALS: i32 = 2;
/// Decimals of an R multiple, a ratio or a cost per share (0.0001 $/share).
pub const RATIO_DECIMALS: i32 = 4;

/// `value` as JSON with every float rounded by the name of the field that holds it
/// (array elements take their field's name).
pub fn rounded<T: Serialize>(value: &T) -> Result<Value, serde_json::Error> {
    let mut v = serde_json::to_value(value)?;
    round_in(&mut v, None);
    Ok(v)
}

/// `x` rounded to `decimals` places (half away from zero).
pub fn round_to(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let r = (x * scale).round() / scale;
    if r.is_finite() { r } else { x }
}

fn round_in(v: &mut Value, field: Option<&str>) {
    match v {
        Value::Number(n) if n.is_f64() => {
            let decimals = if field.is_some_and(|f| PRICE_FIELDS.contains(&f)) {
                PRICE_DECIMALS
            } else {
                RATIO_DECIMALS
            };
            if let Some(r) = n
                .as_f64()
                .and_then(|x| Number::from_f64(round_to(x, decimals)))
            {
                *n = r;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| round_in(i, field)),
        Value::Object(map) => round_map(map),
        _ => {}
    }
}

fn round_map(map: &mut Map<String, Value>) {
    for (key, value) in map.iter_mut() {
        round_in(value, Some(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_keep_cents_and_r_keeps_four_decimals() {
        let v = serde_json::json!({
            "entry": 680.1200000000001,
            "realised_r": -1.9499999999999886,
            "win_rate_ci95": [0.123456, 0.98765],
            "id": 7,
            "nested": [{"stop": 25123.449999999997}],
            "note": "x",
        });
        let r = rounded(&v).unwrap();
        assert_eq!(
            r.to_string(),
            r#"{"entry":680.12,"id":7,"nested":[{"stop":25123.45}],"note":"x","realised_r":-1.95,"win_rate_ci95":[0.1235,0.9877]}"#
        );
    }

    #[test]
    fn a_sub_cent_slippage_keeps_its_value_while_prices_keep_cents() {
        // Half a cent a share per side is a common retail cost; printed as a price it
        // became 0.01 and a script reading the report doubled the cost it saw.
        let v = serde_json::json!({"slippage": 0.005, "fill_price": 100.125_000_000_1});
        let r = rounded(&v).unwrap();
        assert_eq!(r["slippage"].as_f64(), Some(0.005));
        assert_eq!(r["fill_price"].as_f64(), Some(100.13));
        let float_noise = serde_json::json!({"slippage": 0.005_000_000_000_1});
        assert_eq!(
            rounded(&float_noise).unwrap()["slippage"].as_f64(),
            Some(0.005)
        );
    }
}
