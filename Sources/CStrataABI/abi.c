// CStrataABI exposes include/strata.h to Swift so the @_cdecl layer uses the header's own types
// (strata_session_params, status constants). It contains no code.
#include "strata.h"
