/// The product's version, in one place for the Swift side: `strata_version()` and `strata --version`
/// return it. It must equal include/strata.h's STRATA_VERSION_MAJOR/MINOR/PATCH, the Python
/// package's and the converter's `__version__` and bindings/python/pyproject.toml (tested:
/// HeaderSignatureTests and bindings/python/tests/test_drift_abi.py).
public enum StrataVersion {
    /// "MAJOR.MINOR.PATCH".
    public static let string: StaticString = "0.2.0"
}
