# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled step loop of spikecore.engine.loihi_learning: Lava 0.10's fixed-point LIF, Dense (and
Sparse), DelayDense (and DelaySparse) and LearningDense (PyLearningDenseModelBitApproximate), bit for bit.

The Python module holds the state in numpy arrays (its numpy stepping, ``kernel="numpy"``, is
the readable statement of every rule, with Lava's file and function); this loop runs the same
arithmetic on the same arrays. Widths follow Lava's numpy dtypes: products of the learning
rule are int32 and wrap (computed in uint32, where C defines the wrap, then converted),
weights are int32, traces, tags, activations int64; floating-point steps (trace decay,
stochastic rounding) are the same IEEE operations numpy does, with numpy's ``x % 1``
(fmod, plus 1 when negative) and the decay factors exp(-1/tau) computed by numpy.
"""
cimport cython
from libc.math cimport floor, nearbyint
from libc.stdint cimport int64_t, int32_t, uint32_t, uint8_t

import numpy as np

DEF ACC_MIN = -32769                    # -(2**15) - 1
DEF ACC_MAX = 32767

# factor codes (loihi_learning.FACTOR_CODES)
DEF F_X0 = 0
DEF F_Y0 = 1
DEF F_X1 = 2
DEF F_X2 = 3
DEF F_Y1 = 4
DEF F_Y2 = 5
DEF F_Y3 = 6
DEF F_W = 7
DEF F_D = 8
DEF F_T = 9
DEF F_C = 10
# dependency codes
DEF D_X0 = 0
DEF D_Y0 = 1
DEF D_U = 2


cdef inline double mod1(double p) noexcept nogil:
    """numpy's p % 1.0 (npy_divmod: fmod, + 1 when negative), as p - floor(p): fmod(p, 1) is
    exact, and so is p - floor(p) for p >= 0 (Sterbenz); for p < 0 both round the same exact
    value p - trunc(p) + 1 once. (Checked against numpy in tests/engine/test_loihi_learning.py.)"""
    return p - floor(p)


cdef inline int64_t clip64(int64_t v, int64_t lo, int64_t hi) noexcept nogil:
    return lo if v < lo else (hi if v > hi else v)


cdef inline int64_t add_impulse(int64_t v, double rnd, int64_t imp_int, int64_t imp_frac) noexcept nogil:
    """_add_impulse: + integer part, + 1 where random < fractional part (1/256), clip 0..127."""
    v = v + imp_int
    if rnd < <double>imp_frac:
        v += 1
    return clip64(v, 0, 127)


cdef inline int64_t decay_trace(int64_t v, double factor, double rnd) noexcept nogil:
    """_decay_trace: exp(-1/tau) * v, floored, + 1 where random < the fractional part."""
    cdef double p = factor * <double>v
    cdef double fl = floor(p)
    cdef int64_t r = <int64_t>fl
    if rnd < mod1(p):
        r += 1
    return r


cdef inline int32_t mul32(int32_t a, int32_t b) noexcept nogil:
    return <int32_t>(<uint32_t>a * <uint32_t>b)


cdef inline int64_t sign64(int64_t v) noexcept nogil:
    return (v > 0) - (v < 0)


cdef struct Ctx:
    int64_t n_pre, n_post
    uint8_t *x0
    uint8_t *y0
    int64_t *tx
    int64_t *ty
    int64_t *xh
    int64_t *yh
    int64_t *x_tx
    int64_t *x_last
    int64_t *y_ty
    int64_t *y_last
    int32_t *w
    int64_t *tag_1
    int64_t *tag_2


cdef inline int64_t factor_value(const Ctx *c, int64_t code, int64_t dep, int64_t i, int64_t j) noexcept nogil:
    """A factor's value before its constant, as the product's dependency evaluates it
    (PyLearningConnection._extract_applier_evaluated_traces): traces at the pre neuron's spike
    time (x0), the post neuron's (y0) or the epoch's end (u)."""
    if code == F_X0:
        return c.x0[i]
    if code == F_Y0:
        return c.y0[j]
    if code == F_X1 or code == F_X2:
        if dep == D_X0:
            return c.x_tx[(code - F_X1) * c.n_pre + i]
        if dep == D_Y0:
            return c.xh[(c.ty[j] * 2 + code - F_X1) * c.n_pre + i]
        return c.x_last[(code - F_X1) * c.n_pre + i]
    if code <= F_Y3:
        if dep == D_X0:
            return c.yh[(c.tx[i] * 3 + code - F_Y1) * c.n_post + j]
        if dep == D_Y0:
            return c.y_ty[(code - F_Y1) * c.n_post + j]
        return c.y_last[(code - F_Y1) * c.n_post + j]
    if code == F_W:
        return c.w[j * c.n_pre + i]
    if code == F_D:
        return c.tag_2[j * c.n_pre + i]
    if code == F_T:
        return c.tag_1[j * c.n_pre + i]
    return 0                              # C: the constant alone


cdef struct Prods:
    int64_t p0, p1, sign_mode, u
    double rnd
    const int64_t *p_dep
    const int64_t *p_mant
    const int64_t *p_exp
    const int64_t *p_shift
    const int64_t *p_fstart
    const int64_t *f_code
    const int64_t *f_const
    const int64_t *f_sgn
    const int64_t *f_lo
    const int64_t *f_hi


cdef inline int64_t update_one(const Ctx *c, const Prods *q, int64_t target, int64_t i, int64_t j) noexcept nogil:
    """One synapse's new value of one synaptic variable: LearningRuleApplierBitApprox.apply, then
    _saturate_synaptic_variable_accumulator, _stochastic_round_synaptic_variable (acc / 2**7:
    its fraction is (acc & 127) / 128 exactly, so the rounding is done in integers plus one
    comparison) and _saturate_synaptic_variable."""
    cdef int64_t p, f, acc, val, dep, rem, idx = j * c.n_pre + i
    cdef int32_t cur
    if target == 0:
        acc = <int64_t>c.w[idx] << 7
    elif target == 1:
        acc = c.tag_2[idx] << 7
    else:
        acc = c.tag_1[idx] << 7
    for p in range(q.p0, q.p1):
        dep = q.p_dep[p]
        if dep == D_X0:
            cur = c.x0[i]
        elif dep == D_Y0:
            cur = c.y0[j]
        else:
            cur = <int32_t>q.u
        if cur != 0:
            for f in range(q.p_fstart[p], q.p_fstart[p + 1]):
                val = factor_value(c, q.f_code[f], dep, i, j) + q.f_const[f]
                if q.f_sgn[f]:
                    val = sign64(val)
                val = clip64(val, q.f_lo[f], q.f_hi[f])
                cur = mul32(cur, <int32_t>val)
            cur = mul32(cur, <int32_t>q.p_mant[p])
            cur = cur >> q.p_shift[p]
            cur = <int32_t>(<uint32_t>cur << q.p_exp[p])
            acc = acc + clip64(cur, ACC_MIN, ACC_MAX)
        acc = clip64(acc, ACC_MIN, ACC_MAX)
    if target == 0:
        if q.sign_mode == 2 and acc < 0:
            acc = 0
        elif q.sign_mode == 3 and acc > 0:
            acc = 0
    elif target == 1 and acc < 0:
        acc = 0
    rem = acc & 127
    acc = acc >> 7
    if rem != 0 and q.rnd < <double>rem / 128.0:
        acc += 1
    if target == 0:
        if q.sign_mode == 1:
            return clip64(acc, -256, 255)
        if q.sign_mode == 3:
            return -clip64(-acc, 0, 255)
        return clip64(acc, 0, 255)
    if target == 1:
        return clip64(acc, 0, 255)
    return clip64(acc, -257, 255)


cdef inline int32_t clip32(int32_t v, int32_t lo, int32_t hi) noexcept nogil:
    return lo if v < lo else (hi if v > hi else v)


cdef void row_update(const Ctx *c, const Prods *q, int64_t target, int64_t j, int32_t *acc, int32_t *cur,
                     int64_t *out) noexcept nogil:
    """update_one for every synapse of post neuron j, product by product and factor by factor
    over the row (simple loops the compiler can pipeline; the same operations, in the same
    order, per synapse). The rounding compares in integers: rnd < rem/128 exactly when
    floor(rnd * 128) < rem (rnd * 128 is exact)."""
    cdef int64_t i, p, f, dep, k, code, n = c.n_pre, lo, hi, cst, v, rem
    cdef int64_t thr = <int64_t>floor(q.rnd * 128.0)
    cdef int32_t s32
    cdef const int64_t *src64
    cdef const int32_t *w_row = c.w + j * n
    # acc in int32: |initial values| <= 2**23 (validated), so << 7 and one product fit
    if target == 0:
        for i in range(n):
            acc[i] = w_row[i] << 7
    else:
        src64 = (c.tag_2 if target == 1 else c.tag_1) + j * n
        for i in range(n):
            acc[i] = <int32_t>(src64[i] << 7)
    for p in range(q.p0, q.p1):
        dep = q.p_dep[p]
        if (dep == D_Y0 and not c.y0[j]) or (dep == D_U and q.u == 0):
            for i in range(n):                      # a zero product: only the saturation
                acc[i] = clip32(acc[i], ACC_MIN, ACC_MAX)
            continue
        if dep == D_X0:
            for i in range(n):
                cur[i] = c.x0[i]
        else:
            for i in range(n):
                cur[i] = 1
        for f in range(q.p_fstart[p], q.p_fstart[p + 1]):
            code, cst, lo, hi = q.f_code[f], q.f_const[f], q.f_lo[f], q.f_hi[f]
            src64 = NULL
            if code == F_X1 or code == F_X2:
                k = code - F_X1
                if dep == D_X0:
                    src64 = c.x_tx + k * n
                elif dep == D_Y0:
                    src64 = c.xh + (c.ty[j] * 2 + k) * n
                else:
                    src64 = c.x_last + k * n
            elif code == F_D:
                src64 = c.tag_2 + j * n
            elif code == F_T:
                src64 = c.tag_1 + j * n
            if src64 != NULL:
                for i in range(n):
                    v = src64[i] + cst
                    if q.f_sgn[f]:
                        v = sign64(v)
                    cur[i] = mul32(cur[i], <int32_t>clip64(v, lo, hi))
            elif code == F_W:
                for i in range(n):
                    v = <int64_t>w_row[i] + cst
                    if q.f_sgn[f]:
                        v = sign64(v)
                    cur[i] = mul32(cur[i], <int32_t>clip64(v, lo, hi))
            elif code == F_X0:
                for i in range(n):
                    cur[i] = mul32(cur[i], <int32_t>clip64(<int64_t>c.x0[i] + cst, lo, hi))
            elif code >= F_Y1 and code <= F_Y3 and dep == D_X0:
                k = code - F_Y1
                for i in range(n):
                    v = c.yh[(c.tx[i] * 3 + k) * c.n_post + j] + cst
                    cur[i] = mul32(cur[i], <int32_t>clip64(v, lo, hi))
            else:                                    # the same value for the whole row
                v = factor_value(c, code, dep, 0, j) + cst
                s32 = <int32_t>clip64(v, lo, hi)
                for i in range(n):
                    cur[i] = mul32(cur[i], s32)
        for i in range(n):
            s32 = mul32(cur[i], <int32_t>q.p_mant[p]) >> q.p_shift[p]
            s32 = <int32_t>(<uint32_t>s32 << q.p_exp[p])
            acc[i] = clip32(acc[i] + clip32(s32, ACC_MIN, ACC_MAX), ACC_MIN, ACC_MAX)
    # _saturate_synaptic_variable_accumulator, rounding, _saturate_synaptic_variable: bounds
    cdef int32_t sat_lo = ACC_MIN, sat_hi = ACC_MAX, lo32, hi32, a32, thr32 = <int32_t>thr
    if (target == 0 and q.sign_mode == 2) or target == 1:
        sat_lo = 0
    elif target == 0 and q.sign_mode == 3:
        sat_hi = 0
    if target == 0:
        lo32, hi32 = (-256, 255) if q.sign_mode == 1 else ((-255, 0) if q.sign_mode == 3 else (0, 255))
    elif target == 1:
        lo32, hi32 = 0, 255
    else:
        lo32, hi32 = -257, 255
    cdef int64_t *orow = out + j * n
    for i in range(n):
        a32 = clip32(acc[i], sat_lo, sat_hi)
        a32 = (a32 >> 7) + ((a32 & 127) > thr32)
        orow[i] = clip32(a32, lo32, hi32)


cdef int64_t synapse_loop(const Ctx *c, const Prods *q, int64_t target, bint full, bint has_x0, bint has_y0,
                          const int64_t *x_list, int64_t n_x, int64_t *out, int64_t *done, int32_t *acc,
                          int32_t *cur) noexcept nogil:
    """Updates of one synaptic variable into ``out``, their indices into ``done``; returns their
    count. Unless ``full``, only synapses with an active dependency are computed: every other
    one's update is the identity (its products are 0 and its value lies where Lava's
    saturation, rounding and clipping leave it unchanged, which the caller checks)."""
    cdef int64_t i, j, k, idx, n_done = 0
    for j in range(c.n_post):
        if full or (has_y0 and c.y0[j]):
            row_update(c, q, target, j, acc, cur, out)
            for i in range(c.n_pre):
                done[n_done] = j * c.n_pre + i
                n_done += 1
        elif has_x0:
            for k in range(n_x):
                i = x_list[k]
                idx = j * c.n_pre + i
                out[idx] = update_one(c, q, target, i, j)
                done[n_done] = idx
                n_done += 1
    return n_done


@cython.final
cdef class Lif:
    cdef public object u_arr, v_arr, spikes_arr, y_arr
    cdef int32_t[::1] u, v, bias
    cdef uint8_t[::1] spikes
    cdef int64_t[:, ::1] y
    cdef public int64_t[::1] a_in, third
    cdef int64_t fu, fv, vth, n
    cdef bint reward, reward_lif
    cdef double y_decay, y_impulse, y2_decay
    cdef double[:, ::1] yf
    cdef uint8_t[:, ::1] raster
    cdef int64_t[::1] s64

    def __init__(self, u, v, bias, int fu, int fv, int vth, spikes, bint reward, double y_decay,
                 double y_impulse, y, bint reward_lif=False, double y2_decay=0.0, yf=None):
        self.u_arr, self.v_arr, self.spikes_arr, self.y_arr = u, v, spikes, y
        self.u, self.v, self.bias, self.spikes, self.y = u, v, bias, spikes, y
        self.fu, self.fv, self.vth, self.n = fu, fv, vth, u.shape[0]
        self.reward, self.y_decay, self.y_impulse = reward, y_decay, y_impulse
        self.reward_lif, self.y2_decay = reward_lif, y2_decay
        self.yf = yf if yf is not None else np.zeros((2, 1), dtype=np.float64)
        self.a_in = np.zeros(self.n, dtype=np.int64)
        self.third = np.zeros(self.n, dtype=np.int64)

    cdef void step(self) noexcept nogil:
        """AbstractPyLifModelFixed.run_spk (and RSTDPLIFBitAcc's y1/y2 with ``reward``, or
        PyRewardLifModelFixed's with ``reward_lif``: doubles rounded half to even by nearbyint)."""
        cdef int64_t j, d
        cdef int32_t cur, act
        cdef double yv
        for j in range(self.n):
            if self.reward_lif:
                yv = self.yf[0, j] * self.y_decay + self.y_impulse * <double>self.spikes[j]
                self.yf[0, j] = yv if yv < 127.0 else 127.0
                self.y[0, j] = <int64_t>nearbyint(self.yf[0, j])
            elif self.reward:
                self.y[0, j] = <int64_t>floor(<double>self.y[0, j] * self.y_decay
                                              + self.y_impulse * <double>self.spikes[j])
            d = <int64_t>self.u[j] * self.fu
            d = (d >> 12) if d >= 0 else -((-d) >> 12)
            act = <int32_t>(<uint32_t><int32_t>self.a_in[j] << 6)
            cur = <int32_t>(<uint32_t><int32_t>d + <uint32_t>act)
            if cur > (1 << 23):
                cur = cur - (1 << 24)
            elif cur <= -(1 << 23):
                cur = cur + (1 << 24)
            self.u[j] = cur
            d = <int64_t>self.v[j] * self.fv
            d = (d >> 12) if d >= 0 else -((-d) >> 12)
            d = d + <int64_t>cur + <int64_t>self.bias[j]
            d = clip64(d, -(1 << 23) + 1, (1 << 23) - 1)
            if d > self.vth:
                self.spikes[j] = 1
                d = 0
            else:
                self.spikes[j] = 0
            self.v[j] = <int32_t>d
            if self.reward_lif:
                yv = self.yf[1, j] * self.y2_decay + <double>self.third[j]
                self.yf[1, j] = -128.0 if yv < -128.0 else (127.0 if yv > 127.0 else yv)
                self.y[1, j] = <int64_t>nearbyint(self.yf[1, j])
            elif self.reward:
                self.y[1, j] = self.third[j]


cdef class Conn:
    """A Dense or LearningDense connection's spiking part (AbstractPyDenseModelBitAcc.run_spk)."""
    cdef public object w_arr, a_buff_arr
    cdef int32_t[:, ::1] w
    cdef public int64_t[::1] a_buff
    cdef int64_t weight_exp, n_pre, n_post
    cdef bint graded
    cdef public int pre_group, pre_input, post_group, third_port
    cdef int64_t[::1] active
    cdef int64_t[::1] source            # the pre group's spikes (int64), or:
    cdef int64_t[:, ::1] data           # the pre input's (length, size) values
    cdef Lif target

    def __init__(self, w, a_buff, int weight_exp, bint graded, int pre_group, int pre_input,
                 int post_group, bint third_port):
        self.w_arr, self.a_buff_arr, self.w, self.a_buff = w, a_buff, w, a_buff
        self.n_post, self.n_pre = w.shape[0], w.shape[1]
        self.weight_exp, self.graded = weight_exp, graded
        self.pre_group, self.pre_input, self.post_group, self.third_port = pre_group, pre_input, post_group, third_port
        self.active = np.zeros(max(self.n_pre, 1), dtype=np.int64)

    cdef inline const int64_t *spikes_at(self, int64_t t) noexcept nogil:
        """This step's presynaptic values (input row (t - 1) mod length, as Lava's RingBuffer)."""
        if self.pre_group >= 0:
            return &self.source[0]
        return &self.data[(t - 1) % self.data.shape[0], 0]

    cdef void add_into_target(self, const int64_t *values) noexcept nogil:
        """Adds n_post values to the target's a_in (or its third-factor input)."""
        cdef int64_t j
        if self.third_port:
            for j in range(self.n_post):
                self.target.third[j] += values[j]
        else:
            for j in range(self.n_post):
                self.target.a_in[j] += values[j]

    cdef int64_t collect_active(self, const int64_t *s) noexcept nogil:
        """Lists the presynaptic indices with a nonzero value in ``active``; returns their count."""
        cdef int64_t i, n_active = 0
        for i in range(self.n_pre):
            if s[i] != 0:
                self.active[n_active] = i
                n_active += 1
        return n_active

    cdef void deliver(self) noexcept nogil:
        """Adds last step's a_buff to the target's a_in (or third-factor input)."""
        if self.n_post > 0:
            self.add_into_target(&self.a_buff[0])

    cdef void spikes_in(self, const int64_t *s) noexcept nogil:
        cdef int64_t j, k, acc
        cdef int64_t n_active = self.collect_active(s)
        cdef const int32_t *row
        for j in range(self.n_post):
            acc = 0
            row = &self.w[j, 0]
            if self.graded:
                for k in range(n_active):
                    acc += <int64_t>row[self.active[k]] * s[self.active[k]]
            else:
                for k in range(n_active):
                    acc += row[self.active[k]]
            self.a_buff[j] = (acc << self.weight_exp) if self.weight_exp > 0 else (acc >> (-self.weight_exp))


@cython.final
cdef class DelayConn(Conn):
    """A DelayDense or DelaySparse connection (PyDelayDenseModelBitAcc.run_spk, lava/proc/dense/models.py;
    PyDelaySparseModelBitAcc.run_spk, lava/proc/sparse/models.py): each step's sum of each delay value
    k is shifted by the weight exponent apart and lands k + 1 steps later. ``ring`` (n_slots, n_post)
    holds Lava's a_buff columns, row ``head`` being its column 0 (the one sent next)."""
    cdef int64_t[:, ::1] delays, ring
    cdef int64_t[::1] slot_acc
    cdef public int64_t head
    cdef int64_t n_slots

    def __init__(self, w, delays, ring, int weight_exp, bint graded, int pre_group, int pre_input,
                 int post_group, bint third_port):
        Conn.__init__(self, w, np.zeros(w.shape[0], dtype=np.int64), weight_exp, graded, pre_group, pre_input,
                      post_group, third_port)
        self.delays, self.ring = delays, ring
        self.n_slots = ring.shape[0]
        self.slot_acc = np.zeros(self.n_slots, dtype=np.int64)
        self.head = 0

    cdef void deliver(self) noexcept nogil:
        """Adds the ring's head column (Lava's a_buff[:, 0]) to the target."""
        if self.n_post > 0:
            self.add_into_target(&self.ring[self.head, 0])

    cdef void spikes_in(self, const int64_t *s) noexcept nogil:
        cdef int64_t i, j, k, acc, slot
        cdef int64_t n_active = self.collect_active(s)
        cdef const int32_t *row
        cdef const int64_t *drow
        # a_buff[:, 0] = 0; np.roll(a_buff, -1): the sent column is cleared and becomes the last
        for j in range(self.n_post):
            self.ring[self.head, j] = 0
        self.head = (self.head + 1) % self.n_slots
        for j in range(self.n_post):
            for k in range(self.n_slots):
                self.slot_acc[k] = 0
            row = &self.w[j, 0]
            drow = &self.delays[j, 0]
            if self.graded:
                for k in range(n_active):
                    i = self.active[k]
                    self.slot_acc[drow[i]] += <int64_t>row[i] * s[i]
            else:
                for k in range(n_active):
                    i = self.active[k]
                    self.slot_acc[drow[i]] += row[i]
            for k in range(self.n_slots):
                acc = self.slot_acc[k]
                slot = (self.head + k) % self.n_slots
                self.ring[slot, j] += (acc << self.weight_exp) if self.weight_exp > 0 else (acc >> (-self.weight_exp))


@cython.final
cdef class Plastic(Conn):
    """LearningConnectionModelBitApproximate: traces, epochs, the product series."""
    cdef int64_t[:, ::1] x, y, tag_1, tag_2
    cdef int64_t[::1] tx, ty
    cdef uint8_t[::1] x0, y0
    cdef int64_t[::1] x_imp_int, x_imp_frac, y_imp_int, y_imp_frac
    cdef uint8_t[::1] x_active, y_active
    cdef double[::1] x_factor, y_factor
    cdef double[::1] xr_decay, yr_decay, cv
    cdef int64_t[::1] xr_imp, yr_imp
    cdef public int64_t k_trace, k_cv
    cdef int64_t t_epoch, decimate, sign_mode
    cdef bint three_factor
    # products: per target (0 w, 1 d, 2 t) a range [p_start[k], p_start[k+1]) of products,
    # each with dependency, mantissa, exponent, and a range of factors (code, const, sgn)
    cdef int64_t[::1] p_start, p_dep, p_mant, p_exp, p_shift, p_fstart
    cdef int64_t[::1] f_code, f_const, f_sgn, f_lo, f_hi
    cdef int64_t[:, :, ::1] xh, yh
    cdef int64_t[:, ::1] x_tx, x_last, y_ty, y_last
    cdef int64_t[:, ::1] w_new, d_new, t_new
    cdef int64_t[:, ::1] done
    cdef int64_t[::1] x_list
    cdef int32_t[::1] row_acc, row_cur
    cdef int64_t n_done[3]
    cdef public bint settled[3]
    cdef bint sparse
    cdef int64_t graded_cfg              # GradedSpikeCfg: 0 regular impulse, 1 overwrite, 2/3 add with(out) saturation
    cdef uint8_t[:, ::1] mask            # LearningSparse: per target (w, d, t) the stored entries

    def __init__(self, w, a_buff, int weight_exp, int pre_group, int pre_input, int post_group,
                 x, y, tx, ty, x0, y0, tag_1, tag_2, x_imp_int, x_imp_frac, y_imp_int, y_imp_frac,
                 x_active, y_active, x_factor, y_factor, xr_decay, xr_imp, yr_decay, yr_imp, cv,
                 int64_t k_trace, int64_t k_cv, int t_epoch, int decimate, int sign_mode, bint three_factor,
                 p_start, p_dep, p_mant, p_exp, p_shift, p_fstart, f_code, f_const, f_sgn, f_lo, f_hi, settled,
                 bint graded=False, mask=None, int graded_cfg=0):
        Conn.__init__(self, w, a_buff, weight_exp, graded, pre_group, pre_input, post_group, False)
        self.graded_cfg = graded_cfg
        self.sparse = mask is not None
        self.mask = mask if mask is not None else np.zeros((3, 1), dtype=np.uint8)
        self.x, self.y, self.tx, self.ty, self.x0, self.y0 = x, y, tx, ty, x0, y0
        self.tag_1, self.tag_2 = tag_1, tag_2
        self.x_imp_int, self.x_imp_frac, self.y_imp_int, self.y_imp_frac = x_imp_int, x_imp_frac, y_imp_int, y_imp_frac
        self.x_active, self.y_active, self.x_factor, self.y_factor = x_active, y_active, x_factor, y_factor
        self.xr_decay, self.xr_imp, self.yr_decay, self.yr_imp, self.cv = xr_decay, xr_imp, yr_decay, yr_imp, cv
        self.k_trace, self.k_cv = k_trace, k_cv
        self.t_epoch, self.decimate, self.sign_mode, self.three_factor = t_epoch, decimate, sign_mode, three_factor
        self.p_start, self.p_dep, self.p_mant, self.p_exp, self.p_shift, self.p_fstart = \
            p_start, p_dep, p_mant, p_exp, p_shift, p_fstart
        self.f_code, self.f_const, self.f_sgn, self.f_lo, self.f_hi = f_code, f_const, f_sgn, f_lo, f_hi
        self.xh = np.zeros((t_epoch + 1, 2, self.n_pre), dtype=np.int64)
        self.yh = np.zeros((t_epoch + 1, 3, self.n_post), dtype=np.int64)
        self.x_tx = np.zeros((2, self.n_pre), dtype=np.int64)
        self.x_last = np.zeros((2, self.n_pre), dtype=np.int64)
        self.y_ty = np.zeros((3, self.n_post), dtype=np.int64)
        self.y_last = np.zeros((3, self.n_post), dtype=np.int64)
        self.w_new = np.zeros((self.n_post, self.n_pre), dtype=np.int64)
        self.d_new = np.zeros((self.n_post, self.n_pre), dtype=np.int64)
        self.t_new = np.zeros((self.n_post, self.n_pre), dtype=np.int64)
        self.done = np.zeros((3, max(self.n_post * self.n_pre, 1)), dtype=np.int64)
        self.x_list = np.zeros(max(self.n_pre, 1), dtype=np.int64)
        self.row_acc = np.zeros(max(self.n_pre, 1), dtype=np.int32)
        self.row_cur = np.zeros(max(self.n_pre, 1), dtype=np.int32)
        for k in range(3):
            self.settled[k] = settled[k]

    def set_streams(self, xr_decay, xr_imp, yr_decay, yr_imp, cv):
        """Random streams drawn for a longer run (the same numbers first): a continued run."""
        self.xr_decay, self.xr_imp, self.yr_decay, self.yr_imp, self.cv = xr_decay, xr_imp, yr_decay, yr_imp, cv

    cdef void recv_traces(self, const int64_t *s, const uint8_t *bap, Lif post, int64_t t) noexcept nogil:
        cdef int64_t i, j, k
        cdef int64_t within = t % self.t_epoch
        cdef double rnd
        if within == 0:
            within = self.t_epoch
        if self.graded_cfg == 0:
            for i in range(self.n_pre):      # _process_pre_spikes (USE_REGULAR_IMPULSE)
                if s[i] != 0:
                    if self.tx[i] > 0:
                        for k in range(2):
                            self.x[k, i] = add_impulse(self.x[k, i], 0.0, self.x_imp_int[k], self.x_imp_frac[k])
                    self.tx[i] = within
        else:
            self.graded_pre_spikes(s, within)
        self.k_trace += 1
        rnd = <double>self.yr_imp[self.k_trace]
        for j in range(self.n_post):         # _process_post_spikes
            if bap[j]:
                self.y0[j] = 1
                if self.ty[j] > 0:
                    for k in range(3):
                        self.y[k, j] = add_impulse(self.y[k, j], rnd, self.y_imp_int[k], self.y_imp_frac[k])
                self.ty[j] = within
        if self.three_factor:
            for k in range(3):
                for j in range(self.n_post):
                    self.y[k, j] = post.y[k, j]
        self.k_trace += 1

    cdef void graded_pre_spikes(self, const int64_t *s, int64_t within) noexcept nogil:
        """_process_pre_spikes with GradedSpikeCfg OVERWRITE (1), ADD_WITH_SATURATION (2) or
        ADD_WITHOUT_SATURATION (3) (loihi_learning._Plastic._process_pre_spikes): the payload
        np.round(s / 2) (half to even: nearbyint) as uint8, 0 on a binary connection."""
        cdef int64_t i, payload, sums
        cdef bint spiked, multi
        for i in range(self.n_pre):
            spiked = s[i] != 0
            multi = spiked and self.tx[i] > 0
            payload = (<int64_t>nearbyint(<double>s[i] / 2.0)) & 0xFF if self.graded else 0
            if self.graded_cfg == 1:
                if spiked:
                    self.x[0, i] = payload
            else:
                sums = (self.x[0, i] + payload) & 0xFF
                if self.graded_cfg == 2:
                    self.x[0, i] = clip64(sums, 0, 127)
                elif sums > 127:
                    self.x[0, i] = sums - 127
                else:
                    self.x[0, i] = sums
                    spiked = multi = False
            if multi:
                self.x[1, i] = add_impulse(self.x[1, i], 0.0, self.x_imp_int[1], self.x_imp_frac[1])
            if spiked:
                self.tx[i] = within

    cdef void learn(self, int64_t time_step) noexcept nogil:
        """run_lrn at the end of an epoch."""
        cdef int64_t i, j, k, tt, T = self.t_epoch, p, target, u = 0, n_x, idx
        cdef double xd, yd, xi, yi, rnd
        cdef Ctx c
        cdef Prods q
        cdef bint has_x0, has_y0, has_u, settled
        cdef int64_t[::1] done
        cdef int64_t *outp
        cdef int64_t[:, ::1] out
        self.k_cv += 1
        for i in range(self.n_pre):
            self.x0[i] = self.tx[i] > 0
        for j in range(self.n_post):
            self.y0[j] = self.ty[j] > 0
        xd = self.xr_decay[self.k_trace]
        xi = <double>self.xr_imp[self.k_trace]
        yd = self.yr_decay[self.k_trace]
        yi = <double>self.yr_imp[self.k_trace]
        for k in range(2):
            for i in range(self.n_pre):
                self.xh[0, k, i] = self.x[k, i]
        for k in range(3):
            for j in range(self.n_post):
                self.yh[0, k, j] = self.y[k, j]
        for tt in range(1, T + 1):
            for k in range(2):
                for i in range(self.n_pre):
                    self.xh[tt, k, i] = decay_trace(self.xh[tt - 1, k, i], self.x_factor[k], xd) \
                        if self.x_active[k] else 0
                    if self.tx[i] == tt:
                        self.xh[tt, k, i] = add_impulse(self.xh[tt, k, i], xi, self.x_imp_int[k], self.x_imp_frac[k])
            for k in range(3):
                for j in range(self.n_post):
                    self.yh[tt, k, j] = decay_trace(self.yh[tt - 1, k, j], self.y_factor[k], yd) \
                        if self.y_active[k] else 0
                    if self.ty[j] == tt:
                        self.yh[tt, k, j] = add_impulse(self.yh[tt, k, j], yi, self.y_imp_int[k], self.y_imp_frac[k])
        for k in range(2):
            for i in range(self.n_pre):
                self.x[k, i] = self.xh[T, k, i]
                self.x_tx[k, i] = self.xh[self.tx[i], k, i]
                self.x_last[k, i] = self.xh[T, k, i]
        for k in range(3):
            for j in range(self.n_post):
                if not self.three_factor:
                    self.y[k, j] = self.yh[T, k, j]
                self.y_ty[k, j] = self.yh[self.ty[j], k, j]
                self.y_last[k, j] = self.yh[T, k, j]
        if self.decimate >= 0:
            u = 1 if (time_step // T) % (1 << self.decimate) == 0 else 0
        rnd = self.cv[self.k_cv]
        c.n_pre, c.n_post = self.n_pre, self.n_post
        c.x0, c.y0, c.tx, c.ty = &self.x0[0], &self.y0[0], &self.tx[0], &self.ty[0]
        c.xh, c.yh = &self.xh[0, 0, 0], &self.yh[0, 0, 0]
        c.x_tx, c.x_last, c.y_ty, c.y_last = &self.x_tx[0, 0], &self.x_last[0, 0], &self.y_ty[0, 0], &self.y_last[0, 0]
        c.w, c.tag_1, c.tag_2 = &self.w[0, 0], &self.tag_1[0, 0], &self.tag_2[0, 0]
        q.u, q.rnd, q.sign_mode = u, rnd, self.sign_mode
        q.p_dep, q.p_mant, q.p_exp, q.p_shift = &self.p_dep[0], &self.p_mant[0], &self.p_exp[0], &self.p_shift[0]
        q.p_fstart, q.f_code, q.f_const = &self.p_fstart[0], &self.f_code[0], &self.f_const[0]
        q.f_sgn, q.f_lo, q.f_hi = &self.f_sgn[0], &self.f_lo[0], &self.f_hi[0]
        n_x = 0
        for i in range(self.n_pre):
            if self.x0[i]:
                self.x_list[n_x] = i
                n_x += 1
        for target in range(3):
            q.p0, q.p1 = self.p_start[target], self.p_start[target + 1]
            if q.p0 == q.p1:
                continue
            has_x0 = has_y0 = has_u = False
            for p in range(q.p0, q.p1):
                has_x0 = has_x0 or self.p_dep[p] == D_X0
                has_y0 = has_y0 or self.p_dep[p] == D_Y0
                has_u = has_u or self.p_dep[p] == D_U
            out = self.w_new if target == 0 else (self.d_new if target == 1 else self.t_new)
            done = self.done[target]
            self.n_done[target] = synapse_loop(&c, &q, target, (has_u and u != 0) or not self.settled[target],
                                               has_x0, has_y0, &self.x_list[0], n_x, &out[0, 0], &done[0],
                                               &self.row_acc[0], &self.row_cur[0])
        for target in range(3):
            if self.p_start[target] == self.p_start[target + 1]:
                continue
            out = self.w_new if target == 0 else (self.d_new if target == 1 else self.t_new)
            done = self.done[target]
            outp = &out[0, 0]
            settled = True
            for k in range(self.n_done[target]):
                idx = done[k]
                if self.sparse and not self.mask[target, idx]:
                    continue                  # LearningSparse: not stored, stays 0
                if target == 0:
                    c.w[idx] = <int32_t>outp[idx]
                elif target == 1:
                    c.tag_2[idx] = outp[idx]
                else:
                    c.tag_1[idx] = outp[idx]
                    settled = settled and outp[idx] != -257
            self.settled[target] = settled
        for i in range(self.n_pre):
            self.x0[i] = 0
            self.tx[i] = 0
        for j in range(self.n_post):
            self.y0[j] = 0
            self.ty[j] = 0


cdef class Probe:
    """A state probe: u (var 0) or v (var 1) of group ``group`` at ``index``, after every step t
    with t % every == phase, into row k of ``out`` (as the Lava backend's StateRecorder reads it
    in the post-management phase)."""
    cdef public int64_t group, var, every, phase, count
    cdef int64_t[::1] index
    cdef int64_t[:, ::1] out

    def __init__(self, int64_t group, int64_t var, index, int64_t every, int64_t phase, out):
        self.group, self.var, self.every, self.phase = group, var, every, phase
        self.index, self.out = index, out
        self.count = 0

    cdef void record(self, Lif lif, int64_t t) noexcept nogil:
        cdef int64_t k
        if t % self.every != self.phase:
            return
        for k in range(self.index.shape[0]):
            self.out[self.count, k] = lif.u[self.index[k]] if self.var == 0 else lif.v[self.index[k]]
        self.count += 1


def run(list lifs, list statics, list plastics, list inputs, int64_t t0, int64_t n_steps, list rasters,
        int64_t snapshot_every, list snapshots, list probes=None):
    """Steps t0+1 .. t0+n_steps (Lava time steps). ``inputs``: (length, size) int64 arrays,
    row k sent at step k+1 (cycling); ``rasters``: a (n, size) uint8 array per group;
    ``probes``: Probe objects, recorded after every step. Every array is bound to its object
    once, before the loop: a step touches no Python object but the lists of connections."""
    cdef int64_t n, t, g, c, j, n_lifs = len(lifs)
    cdef Lif lif
    cdef Conn cn
    cdef Plastic pl
    cdef Probe pr
    cdef list conns = statics + plastics
    probes = probes or []
    for g in range(n_lifs):
        lif = <Lif>lifs[g]
        lif.raster = rasters[g]
        lif.s64 = np.zeros(lif.n, dtype=np.int64)
    for cn in conns:
        if cn.pre_group >= 0:
            cn.source = (<Lif>lifs[cn.pre_group]).s64
        else:
            cn.data = inputs[cn.pre_input]
        cn.target = <Lif>lifs[cn.post_group]
    for n in range(n_steps):
        t = t0 + n + 1
        for g in range(n_lifs):
            lif = <Lif>lifs[g]
            for j in range(lif.n):
                lif.a_in[j] = 0
                lif.third[j] = 0
        for c in range(len(conns)):
            cn = <Conn>conns[c]
            cn.deliver()
        for g in range(n_lifs):
            lif = <Lif>lifs[g]
            lif.step()
            for j in range(lif.n):
                lif.raster[n, j] = lif.spikes[j]
                lif.s64[j] = lif.spikes[j]
        for c in range(len(probes)):
            pr = <Probe>probes[c]
            pr.record(<Lif>lifs[pr.group], t)
        for c in range(len(statics)):
            cn = <Conn>statics[c]
            cn.spikes_in(cn.spikes_at(t))
        for c in range(len(plastics)):
            pl = <Plastic>plastics[c]
            pl.spikes_in(pl.spikes_at(t))
            pl.recv_traces(pl.spikes_at(t), &pl.target.spikes[0], pl.target, t)
            if t % pl.t_epoch == 0:
                pl.learn(t)
        if snapshot_every and t % snapshot_every == 0:
            snapshots.append((t, [np.asarray(p.w_arr).copy() for p in plastics]))


def mod1_values(double[::1] p):
    """mod1 on an array (for the test that it equals numpy's ``p % 1``)."""
    out = np.empty(p.shape[0])
    cdef double[::1] o = out
    cdef int64_t i
    for i in range(p.shape[0]):
        o[i] = mod1(p[i])
    return out
