// What the file code needs from the C library beyond the plain C functions. Normal Swift gets
// these from the Glibc module's Swift overlay; Embedded Swift (the `make lib` build) imports the
// bare C headers (CStrataLibc), so the overlay's pieces are written out here.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif hasFeature(Embedded)
import CStrataLibc

/// The calling thread's `errno` (a macro in C).
var errno: Int32 { cstrata_errno() }

/// `open(2)`; C's is variadic, which Swift cannot call.
func open(_ path: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    cstrata_open(path, flags, mode)
}

/// `mmap`'s failure value, `(void *)-1`.
var MAP_FAILED: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: -1) }
#endif

/// `write(2)`, for code inside types that have a `write` of their own.
func writeFile(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
