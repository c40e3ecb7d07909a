//! The pure core on random and recorded inputs: detector calibration on the shared real
//! SPY sessions and their invariance to the price level, detector properties on random
//! market-shaped bars, and fuzzing of the providers' parsers. CPU-bound and free of timing, so they share a binary apart from the
//! feed tests, whose reconnect sessions run on short real-time timers.

mod calibration;
mod detector_properties;
mod incremental_state;
mod massive_fuzz;
mod price_scale;
