/* One VM instruction over a block, for the element type T. Included once per
 * type by vm.c with T, U (its unsigned twin), SUFFIX, IS_FLOAT, BITS and, for
 * floats, FN(name) naming the libm function of that precision. Integer
 * arithmetic runs in U so overflow wraps instead of being undefined; division
 * and shifts follow weft's definitions (docs/expressions.md), which the
 * OpenCL code generator emits too. */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

/* Built twice, for AVX2 and for the baseline, picked at load time: the
 * library stays portable and the pool still gets wide vectors. */
WEFT_AVX2_CLONES
static void CAT(exec_, SUFFIX)(const vm_instr *in, unsigned char *const *r, size_t n)
{
    T *d = (T *)r[in->dst];
    const T *a = (const T *)r[in->a], *b = (const T *)r[in->b], *c = (const T *)r[in->c];
    int32_t *truth = (int32_t *)r[in->dst];
    switch (in->code) {
    case VM_UNARY:
        if (in->aux == OP_NEG)
            for (size_t i = 0; i < n; i++)
#if IS_FLOAT
                d[i] = -a[i];
#else
                d[i] = (T)(0 - (U)a[i]);
#endif
#if !IS_FLOAT
        else /* OP_BITNOT */
            for (size_t i = 0; i < n; i++)
                d[i] = (T) ~(U)a[i];
#endif
        return;
    case VM_TRUTH: /* aux 0: x != 0; aux 1: x == 0 */
        for (size_t i = 0; i < n; i++)
            truth[i] = (a[i] != 0) ^ in->aux;
        return;
    case VM_COMPARE:
        switch (in->aux) {
        case OP_LT:
            for (size_t i = 0; i < n; i++)
                truth[i] = a[i] < b[i];
            return;
        case OP_LE:
            for (size_t i = 0; i < n; i++)
                truth[i] = a[i] <= b[i];
            return;
        case OP_GT:
            for (size_t i = 0; i < n; i++)
                truth[i] = a[i] > b[i];
            return;
        case OP_GE:
            for (size_t i = 0; i < n; i++)
                truth[i] = a[i] >= b[i];
            return;
        case OP_EQ:
            for (size_t i = 0; i < n; i++)
                truth[i] = a[i] == b[i];
            return;
        default:
            for (size_t i = 0; i < n; i++)
                truth[i] = a[i] != b[i];
            return;
        }
#if IS_FLOAT
    case VM_MULADD: /* -ffp-contract=off keeps the product rounded on its own */
        if (in->aux == OP_SUB)
            for (size_t i = 0; i < n; i++) {
                T p = a[i] * b[i];
                d[i] = p - c[i];
            }
        else
            for (size_t i = 0; i < n; i++) {
                T p = a[i] * b[i];
                d[i] = p + c[i];
            }
        return;
#endif
    case VM_SELECT: {
        const int32_t *cond = (const int32_t *)r[in->a];
        for (size_t i = 0; i < n; i++)
            d[i] = cond[i] ? b[i] : c[i];
        return;
    }
    case VM_BINARY:
        switch (in->aux) {
#if IS_FLOAT
        case OP_ADD:
            for (size_t i = 0; i < n; i++)
                d[i] = a[i] + b[i];
            return;
        case OP_SUB:
            for (size_t i = 0; i < n; i++)
                d[i] = a[i] - b[i];
            return;
        case OP_MUL:
            for (size_t i = 0; i < n; i++)
                d[i] = a[i] * b[i];
            return;
        case OP_DIV:
            for (size_t i = 0; i < n; i++)
                d[i] = a[i] / b[i];
            return;
#else
        case OP_ADD:
            for (size_t i = 0; i < n; i++)
                d[i] = (T)((U)a[i] + (U)b[i]);
            return;
        case OP_SUB:
            for (size_t i = 0; i < n; i++)
                d[i] = (T)((U)a[i] - (U)b[i]);
            return;
        case OP_MUL:
            for (size_t i = 0; i < n; i++)
                d[i] = (T)((U)a[i] * (U)b[i]);
            return;
        case OP_DIV: /* x/0 = 0; MIN/-1 = MIN */
            for (size_t i = 0; i < n; i++)
                d[i] = b[i] == 0 ? 0
                       : (IS_SIGNED && b[i] == (T)-1) ? (T)(0 - (U)a[i])
                                                      : a[i] / b[i];
            return;
        case OP_MOD: /* x%0 = 0; MIN%-1 = 0 */
            for (size_t i = 0; i < n; i++)
                d[i] = (b[i] == 0 || (IS_SIGNED && b[i] == (T)-1)) ? 0 : a[i] % b[i];
            return;
        case OP_BITAND:
            for (size_t i = 0; i < n; i++)
                d[i] = a[i] & b[i];
            return;
        case OP_BITOR:
            for (size_t i = 0; i < n; i++)
                d[i] = a[i] | b[i];
            return;
        case OP_BITXOR:
            for (size_t i = 0; i < n; i++)
                d[i] = a[i] ^ b[i];
            return;
        case OP_SHL: /* the count is taken modulo the width, as in OpenCL */
            for (size_t i = 0; i < n; i++)
                d[i] = (T)((U)a[i] << ((U)b[i] & (BITS - 1)));
            return;
        case OP_SHR:
            for (size_t i = 0; i < n; i++)
                d[i] = (T)(a[i] >> ((U)b[i] & (BITS - 1)));
            return;
#endif
        default:
            return;
        }
    case VM_CALL:
        switch (in->aux) {
#if IS_FLOAT
        case FN_SQRT:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(sqrt)(a[i]);
            return;
        case FN_RSQRT:
            for (size_t i = 0; i < n; i++)
                d[i] = 1 / FN(sqrt)(a[i]);
            return;
        case FN_CBRT:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(cbrt)(a[i]);
            return;
        case FN_EXP:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(exp)(a[i]);
            return;
        case FN_EXP2:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(exp2)(a[i]);
            return;
        case FN_EXPM1:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(expm1)(a[i]);
            return;
        case FN_LOG:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(log)(a[i]);
            return;
        case FN_LOG2:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(log2)(a[i]);
            return;
        case FN_LOG10:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(log10)(a[i]);
            return;
        case FN_LOG1P:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(log1p)(a[i]);
            return;
        case FN_SIN:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(sin)(a[i]);
            return;
        case FN_COS:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(cos)(a[i]);
            return;
        case FN_TAN:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(tan)(a[i]);
            return;
        case FN_ASIN:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(asin)(a[i]);
            return;
        case FN_ACOS:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(acos)(a[i]);
            return;
        case FN_ATAN:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(atan)(a[i]);
            return;
        case FN_SINH:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(sinh)(a[i]);
            return;
        case FN_COSH:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(cosh)(a[i]);
            return;
        case FN_TANH:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(tanh)(a[i]);
            return;
        case FN_ERF:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(erf)(a[i]);
            return;
        case FN_ERFC:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(erfc)(a[i]);
            return;
        case FN_FABS:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(fabs)(a[i]);
            return;
        case FN_FLOOR:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(floor)(a[i]);
            return;
        case FN_CEIL:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(ceil)(a[i]);
            return;
        case FN_ROUND:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(round)(a[i]);
            return;
        case FN_TRUNC:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(trunc)(a[i]);
            return;
        case FN_POW:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(pow)(a[i], b[i]);
            return;
        case FN_ATAN2:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(atan2)(a[i], b[i]);
            return;
        case FN_HYPOT:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(hypot)(a[i], b[i]);
            return;
        case FN_FMOD:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(fmod)(a[i], b[i]);
            return;
        case FN_FMIN:
            for (size_t i = 0; i < n; i++)
                d[i] = CAT(w_fmin_, SUFFIX)(a[i], b[i]);
            return;
        case FN_FMAX:
            for (size_t i = 0; i < n; i++)
                d[i] = CAT(w_fmax_, SUFFIX)(a[i], b[i]);
            return;
        case FN_COPYSIGN:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(copysign)(a[i], b[i]);
            return;
        case FN_FMA:
            for (size_t i = 0; i < n; i++)
                d[i] = FN(fma)(a[i], b[i], c[i]);
            return;
        case FN_CLAMP:
            for (size_t i = 0; i < n; i++)
                d[i] = CAT(w_fmin_, SUFFIX)(CAT(w_fmax_, SUFFIX)(a[i], b[i]), c[i]);
            return;
#else
        case FN_ABS:
#if IS_SIGNED
            for (size_t i = 0; i < n; i++)
                d[i] = a[i] < 0 ? (T)(0 - (U)a[i]) : a[i];
#else
            for (size_t i = 0; i < n; i++)
                d[i] = a[i];
#endif
            return;
        case FN_MIN:
            for (size_t i = 0; i < n; i++)
                d[i] = a[i] < b[i] ? a[i] : b[i];
            return;
        case FN_MAX:
            for (size_t i = 0; i < n; i++)
                d[i] = a[i] > b[i] ? a[i] : b[i];
            return;
        case FN_CLAMP:
            for (size_t i = 0; i < n; i++) {
                T lo = a[i] > b[i] ? a[i] : b[i];
                d[i] = lo < c[i] ? lo : c[i];
            }
            return;
#endif
        default:
            return;
        }
    default:
        return;
    }
}

#undef CAT
#undef CAT_

/* The parameters are this instantiation's: the next one defines its own. */
#undef T
#undef U
#undef SUFFIX
#undef IS_FLOAT
#undef IS_SIGNED
#undef BITS
#ifdef FN
#undef FN
#endif
