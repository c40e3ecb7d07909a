-- Calibrated confidence (SPEC 18, issue 20 item 5): per setup kind, versioned monotone maps
-- from the raw confidence score (0-100) to the probability that a filled trade wins,
-- fitted by `coach backtest --calibrate --split D` on the sessions before D. The screens
-- show the newest version of each kind; the raw score stays in detections.confidence.
CREATE TABLE calibration_maps (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    -- 1, 2, ... per kind; the highest is applied.
    version BIGINT NOT NULL CHECK (version >= 1),
    -- [{"score": 40.0, "probability": 0.31}, ...] ascending in score, non-decreasing.
    points_json TEXT NOT NULL,
    -- First and last session (New York dates) of the trades fitted on, and their count.
    fitted_from DATE NOT NULL,
    fitted_to DATE NOT NULL,
    trades BIGINT NOT NULL CHECK (trades >= 0),
    -- The split date: every fitting session is before it.
    split DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (kind, version)
);
