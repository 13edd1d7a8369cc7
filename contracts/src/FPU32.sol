// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title FPU32
/// @notice IEEE-754 binary32 arithmetic on bit patterns with integer operations only, for the
///         VM's floating-point unit (docs/VM.md, "Floating point"): round to nearest, ties to
///         even, subnormals kept, and the NaN rule of x86-64 SSE (a NaN operand propagates
///         quieted, the first one if both are NaNs; an invalid operation gives the default NaN
///         0xFFC00000). The TypeScript VM (core/vm/fpu.ts) computes the same functions.
/// @dev Every operand and result is a uint256 holding 32 bits. A finite nonzero operand is
///      unpacked to `m * 2^e` (m < 2^24); results are computed exactly, or with a sticky bit far
///      below the rounding position, then rounded once by `_round`.
library FPU32 {
    uint256 internal constant DEFAULT_NAN = 0xFFC00000;
    uint256 internal constant INT_INDEFINITE = 0x80000000;
    uint256 private constant QUIET = 0x00400000;
    uint256 private constant INF = 0x7F800000;
    uint256 private constant SIGN = 0x80000000;
    uint256 private constant MAG = 0x7FFFFFFF;

    /// @notice Whether `a` is a NaN.
    function isNaN(uint256 a) internal pure returns (bool) {
        return a & MAG > INF;
    }

    /// @notice a + b.
    function add(uint256 a, uint256 b) internal pure returns (uint256) {
        if (isNaN(a) || isNaN(b)) return _nan(a, b);
        return _addFinite(a, b);
    }

    /// @notice a - b.
    function sub(uint256 a, uint256 b) internal pure returns (uint256) {
        if (isNaN(a) || isNaN(b)) return _nan(a, b);
        return _addFinite(a, b ^ SIGN);
    }

    /// @notice a * b.
    function mul(uint256 a, uint256 b) internal pure returns (uint256) {
        if (isNaN(a) || isNaN(b)) return _nan(a, b);
        uint256 sign = (a ^ b) & SIGN;
        uint256 ma = a & MAG;
        uint256 mb = b & MAG;
        if (ma == INF || mb == INF) return (ma == 0 || mb == 0) ? DEFAULT_NAN : sign | INF;
        if (ma == 0 || mb == 0) return sign;
        (uint256 xa, int256 ea) = _unpack(a);
        (uint256 xb, int256 eb) = _unpack(b);
        return _round(sign, xa * xb, ea + eb);
    }

    /// @notice a / b.
    function div(uint256 a, uint256 b) internal pure returns (uint256) {
        if (isNaN(a) || isNaN(b)) return _nan(a, b);
        uint256 sign = (a ^ b) & SIGN;
        uint256 ma = a & MAG;
        uint256 mb = b & MAG;
        if (ma == INF) return mb == INF ? DEFAULT_NAN : sign | INF;
        if (mb == INF) return sign;
        if (mb == 0) return ma == 0 ? DEFAULT_NAN : sign | INF;
        if (ma == 0) return sign;
        (uint256 xa, int256 ea) = _unpack(a);
        (uint256 xb, int256 eb) = _unpack(b);
        // The quotient has at least 41 bits: its last bit, set if inexact, is a sticky bit far
        // below the 24 kept.
        uint256 n = xa << 64;
        uint256 q = n / xb;
        if (n % xb != 0) q |= 1;
        return _round(sign, q, ea - eb - 64);
    }

    /// @notice The square root of a (sqrt(-0) = -0; a negative number gives the default NaN).
    function sqrt(uint256 a) internal pure returns (uint256) {
        if (isNaN(a)) return a | QUIET;
        if (a & MAG == 0) return a;
        if (a & SIGN != 0) return DEFAULT_NAN;
        if (a == INF) return a;
        (uint256 x, int256 e) = _unpack(a);
        if (e & 1 != 0) {
            x <<= 1;
            e -= 1;
        }
        // sqrt(x * 2^128) has at least 64 bits; its last bit is set if inexact (sticky).
        uint256 n = x << 128;
        uint256 s = _isqrt(n);
        if (s * s != n) s |= 1;
        return _round(0, s, (e - 128) / 2);
    }

    /// @notice cvt.s.w: the int32 (two's complement) `a` rounded to binary32.
    function fromInt(uint256 a) internal pure returns (uint256) {
        if (a == 0) return 0;
        if (a & SIGN != 0) return _round(SIGN, (1 << 32) - a, 0);
        return _round(0, a, 0);
    }

    /// @notice Binary32 to int32 (two's complement) with rounding `mode`: 0 nearest even,
    ///         1 toward zero, 2 up (ceil), 3 down (floor). NaNs, infinities and results outside
    ///         int32 give 0x80000000 (as x86's cvtss2si/cvttss2si).
    function toInt(uint256 a, uint256 mode) internal pure returns (uint256) {
        uint256 mag = a & MAG;
        if (mag >= INF) return INT_INDEFINITE;
        if (mag == 0) return 0;
        bool neg = a & SIGN != 0;
        (uint256 x, int256 e) = _unpack(a);
        uint256 r;
        if (e >= 0) {
            if (e > 31) return INT_INDEFINITE;
            // forge-lint: disable-next-line(unsafe-typecast)
            r = x << uint256(e);
        } else {
            // forge-lint: disable-next-line(unsafe-typecast)
            uint256 sh = uint256(-e);
            if (sh > 64) sh = 64; // x < 2^24: the integer part is 0 and the rest below one half
            r = x >> sh;
            // forge-lint: disable-next-line(incorrect-shift)
            uint256 rem = x & ((1 << sh) - 1);
            if (rem != 0) {
                // forge-lint: disable-next-line(incorrect-shift)
                uint256 half = 1 << (sh - 1);
                if (mode == 0) {
                    if (rem > half || (rem == half && r & 1 != 0)) r++;
                } else if ((mode == 2 && !neg) || (mode == 3 && neg)) {
                    r++;
                }
            }
        }
        if (neg) {
            if (r > SIGN) return INT_INDEFINITE;
            return ((1 << 32) - r) & 0xFFFFFFFF;
        }
        return r > MAG ? INT_INDEFINITE : r;
    }

    /// @notice c.cond.s: the predicate `cond` (bit 0 unordered, bit 1 equal, bit 2 less; bit 3,
    ///         signalling, only affects exception flags, which the VM does not keep).
    function compare(uint256 a, uint256 b, uint256 cond) internal pure returns (bool) {
        if (isNaN(a) || isNaN(b)) return cond & 1 != 0;
        int256 x = _key(a);
        int256 y = _key(b);
        return (cond & 2 != 0 && x == y) || (cond & 4 != 0 && x < y);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev The NaN result: the first NaN operand quieted, else the default NaN.
    function _nan(uint256 a, uint256 b) private pure returns (uint256) {
        if (isNaN(a)) return a | QUIET;
        if (isNaN(b)) return b | QUIET;
        return DEFAULT_NAN;
    }

    /// @dev a + b for non-NaN operands.
    function _addFinite(uint256 a, uint256 b) private pure returns (uint256) {
        uint256 ma = a & MAG;
        uint256 mb = b & MAG;
        if (ma == INF) return (mb == INF && (a ^ b) & SIGN != 0) ? DEFAULT_NAN : a;
        if (mb == INF) return b;
        if (ma == 0) return mb == 0 ? a & b : b; // -0 + -0 = -0, else +0
        if (mb == 0) return a;
        if (mb > ma) (a, b) = (b, a); // |a| >= |b|, so a's exponent is the larger
        (uint256 xa, int256 ea) = _unpack(a);
        (uint256 xb, int256 eb) = _unpack(b);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 d = uint256(ea - eb);
        int256 e = eb;
        if (d > 64) {
            // b is below half an ulp of a's 88-bit shifted significand by far: one sticky unit
            // rounds the same (a is normal here, the result has >= 87 bits)
            d = 64;
            xb = 1;
            e = ea - 64;
        }
        xa <<= d;
        if ((a ^ b) & SIGN == 0) return _round(a & SIGN, xa + xb, e);
        if (xa == xb) return 0;
        return _round(a & SIGN, xa - xb, e); // |a| >= |b|: xa > xb
    }

    /// @dev A finite nonzero value as m * 2^e.
    function _unpack(uint256 a) private pure returns (uint256 m, int256 e) {
        uint256 f = (a >> 23) & 0xFF;
        m = a & 0x7FFFFF;
        if (f == 0) return (m, -149);
        // forge-lint: disable-next-line(unsafe-typecast)
        return (m | 0x800000, int256(f) - 150);
    }

    /// @dev `sign | round(sig * 2^exp)` to binary32, nearest even, with subnormals and overflow
    ///      to infinity; `sig > 0`.
    function _round(uint256 sign, uint256 sig, int256 exp) private pure returns (uint256) {
        int256 top = exp + int256(_bitlen(sig)) - 1; // sig * 2^exp is in [2^top, 2^(top+1))
        int256 q = top >= -126 ? top - 23 : int256(-149); // the exponent of the last kept bit
        uint256 r;
        if (q <= exp) {
            // forge-lint: disable-next-line(unsafe-typecast)
            r = sig << uint256(exp - q);
        } else {
            // forge-lint: disable-next-line(unsafe-typecast)
            uint256 sh = uint256(q - exp);
            r = sig >> sh;
            // forge-lint: disable-next-line(incorrect-shift)
            uint256 rem = sig & ((1 << sh) - 1);
            // forge-lint: disable-next-line(incorrect-shift)
            uint256 half = 1 << (sh - 1);
            if (rem > half || (rem == half && r & 1 != 0)) r++;
        }
        if (r == 1 << 24) {
            r >>= 1;
            q++;
        }
        if (r < 1 << 23) return sign | r; // subnormal or zero
        int256 field = q + 150;
        if (field >= 255) return sign | INF;
        // forge-lint: disable-next-line(unsafe-typecast)
        return sign | (uint256(field) << 23) | (r & 0x7FFFFF);
    }

    /// @dev A key that orders non-NaN values as numbers (+0 and -0 equal).
    function _key(uint256 a) private pure returns (int256) {
        // forge-lint: disable-next-line(unsafe-typecast)
        int256 m = int256(a & MAG);
        return a & SIGN != 0 ? -m : m;
    }

    /// @dev The number of bits of x (0 for 0).
    function _bitlen(uint256 x) private pure returns (uint256 n) {
        unchecked {
            if (x >> 128 != 0) {
                x >>= 128;
                n += 128;
            }
            if (x >> 64 != 0) {
                x >>= 64;
                n += 64;
            }
            if (x >> 32 != 0) {
                x >>= 32;
                n += 32;
            }
            if (x >> 16 != 0) {
                x >>= 16;
                n += 16;
            }
            if (x >> 8 != 0) {
                x >>= 8;
                n += 8;
            }
            if (x >> 4 != 0) {
                x >>= 4;
                n += 4;
            }
            if (x >> 2 != 0) {
                x >>= 2;
                n += 2;
            }
            if (x >> 1 != 0) {
                x >>= 1;
                n += 1;
            }
            n += x;
        }
    }

    /// @dev floor(sqrt(x)) for x > 0: Newton's iteration from above.
    function _isqrt(uint256 x) private pure returns (uint256 r) {
        unchecked {
            // forge-lint: disable-next-line(incorrect-shift)
            r = 1 << ((_bitlen(x) + 1) >> 1);
            for (;;) {
                uint256 y = (r + x / r) >> 1;
                if (y >= r) return r;
                r = y;
            }
        }
    }
}
