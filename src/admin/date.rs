//! JavaScript dates as JSON carries them: `new Date().toJSON()`.

use std::time::{SystemTime, UNIX_EPOCH};

/// `time` as an ISO 8601 UTC string with milliseconds (`2024-05-01T12:30:05.042Z`).
pub(super) fn iso(time: SystemTime) -> String {
    let millis = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let seconds = millis / 1000;
    let (year, month, day) = crate::adapter::civil_date(seconds / 86_400);
    let time = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        time / 3600,
        time % 3600 / 60,
        time % 60,
        millis % 1000
    )
}

/// Milliseconds since the epoch.
pub(super) fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn iso_dates() {
        assert_eq!(iso(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_714_566_605_042);
        assert_eq!(iso(t), "2024-05-01T12:30:05.042Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(iso(leap), "2000-02-29T00:00:00.000Z");
    }
}
