// The C math functions the kernels use. On Linux and Darwin they come from the system module;
// in a bare-metal build (Embedded Swift, e.g. the aarch64-none-none-elf check of `make check-arm`)
// they are declared here and resolved by the firmware's libm at link time.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Darwin)
@_exported import Darwin
#else
@_extern(c, "expf") @usableFromInline func expf(_ x: Float) -> Float
@_extern(c, "logf") @usableFromInline func logf(_ x: Float) -> Float
@_extern(c, "tanhf") @usableFromInline func tanhf(_ x: Float) -> Float
@_extern(c, "erff") @usableFromInline func erff(_ x: Float) -> Float
@_extern(c, "exp") @usableFromInline func exp(_ x: Double) -> Double
@_extern(c, "log") @usableFromInline func log(_ x: Double) -> Double
@_extern(c, "tanh") @usableFromInline func tanh(_ x: Double) -> Double
@_extern(c, "erf") @usableFromInline func erf(_ x: Double) -> Double
@_extern(c, "log1p") @usableFromInline func log1p(_ x: Double) -> Double
@_extern(c, "pow") @usableFromInline func pow(_ x: Double, _ y: Double) -> Double
#endif
