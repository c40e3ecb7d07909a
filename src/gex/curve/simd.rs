//! The one CPU dispatch of the GEX hot loops: which vector instructions they use, decided
//! once per process. The widest the running CPU has (AVX-512F, else AVX2, else the
//! portable code as built), unless `COACH_GEX_PORTABLE=1` is set in the environment, which
//! forces the portable code everywhere (CI runs the GEX tests once that way, so every path
//! is tested on one machine). Any other value of the variable leaves the choice to the CPU.

use std::sync::OnceLock;

/// A code path of the hot loops, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Simd {
    /// Plain loops as compiled for the target's baseline.
    Portable,
    /// x86-64 with AVX2.
    Avx2,
    /// x86-64 with AVX-512F.
    Avx512,
}

/// The environment variable that forces [`Simd::Portable`].
pub(crate) const PORTABLE_SWITCH: &str = "COACH_GEX_PORTABLE";

impl Simd {
    /// The path every hot loop takes: read once (the CPU's features and the switch), then
    /// the same answer for the life of the process.
    #[inline]
    pub(crate) fn get() -> Simd {
        static CHOSEN: OnceLock<Simd> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let switch = std::env::var_os(PORTABLE_SWITCH);
            Simd::choose(switch.as_deref(), Simd::widest_supported())
        })
    }

    /// The path for a value of the switch and the CPU's widest: portable only for exactly
    /// `1`.
    pub(crate) fn choose(switch: Option<&std::ffi::OsStr>, widest: Simd) -> Simd {
        if switch.is_some_and(|v| v == "1") {
            Simd::Portable
        } else {
            widest
        }
    }

    /// The widest path the running CPU supports, whatever the switch says (the kernels'
    /// tests compare every supported path with the portable one).
    pub(crate) fn widest_supported() -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Simd::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Simd::Avx2;
            }
        }
        Simd::Portable
    }
}

/// Defines `fn $name(args) -> ret` evaluating `$call` compiled for AVX-512F or AVX2 when
/// [`Simd::get`] says so, else as built. The hot loops are plain loops over slices that the
/// compiler vectorises, so one source serves every width; Rust never contracts a·b + c
/// into an FMA, so every width computes the same operations (partial sums may associate
/// differently).
macro_rules! widest_simd {
    (fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $call:expr) => {
        fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                use $crate::gex::curve::simd::Simd;
                #[target_feature(enable = "avx512f")]
                fn avx512($($arg: $ty),*) -> $ret {
                    $call
                }
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) -> $ret {
                    $call
                }
                match Simd::get() {
                    // SAFETY: `Simd::get` reports only features the running CPU has.
                    Simd::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    Simd::Avx2 => return unsafe { avx2($($arg),*) },
                    Simd::Portable => {}
                }
            }
            $call
        }
    };
}
pub(crate) use widest_simd;

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn only_exactly_1_forces_the_portable_path() {
        let portable = Some(OsStr::new("1"));
        assert_eq!(Simd::choose(portable, Simd::Avx512), Simd::Portable);
        assert_eq!(Simd::choose(portable, Simd::Avx2), Simd::Portable);
        for other in [
            None,
            Some(OsStr::new("0")),
            Some(OsStr::new("")),
            Some(OsStr::new("yes")),
        ] {
            assert_eq!(Simd::choose(other, Simd::Avx512), Simd::Avx512, "{other:?}");
            assert_eq!(Simd::choose(other, Simd::Avx2), Simd::Avx2, "{other:?}");
        }
    }

    #[test]
    fn the_chosen_path_is_one_the_cpu_supports() {
        assert!(Simd::get() <= Simd::widest_supported());
    }
}
