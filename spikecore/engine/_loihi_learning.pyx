# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled step loop of spikecore.engine.loihi_learning: Lava 0.10's fixed-point LIF, Dense and
LearningDense (PyLearningDenseModelBitApproximate), bit for bit.

The Python module holds the state in numpy arrays (its numpy stepping, ``kernel="numpy"``, is
the readable statement of every rule, with Lava's file and function); this loop runs the same
arithmetic on the same arrays. Widths follow Lava's numpy dtypes: products of the learning
rule are int32 and wrap (computed in uint32, where C defines the wrap, then converted),
weights are int32, traces, tags, activations int64; floating-point steps (trace decay,
stochastic rounding) are the same IEEE operations numpy does, with numpy's ``x % 1``
(fmod, plus 1 when negative) and the decay factors exp(-1/tau) computed by numpy.
"""
from libc.math cimport floor, fmod
from libc.stdint cimport int64_t, int32_t, uint32_t, uint8_t

import numpy as np

cdef int64_t ACC_MIN = -(1 << 15) - 1
cdef int64_t ACC_MAX = (1 << 15) - 1

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
    """numpy's p % 1.0 (npy_divmod): fmod, shifted into [0, 1) when negative."""
    cdef double m = fmod(p, 1.0)
    if m != 0 and m < 0:
        m += 1.0
    return m


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


cdef class Lif:
    cdef public object u_arr, v_arr, spikes_arr, y_arr
    cdef int32_t[::1] u, v, bias
    cdef uint8_t[::1] spikes
    cdef int64_t[:, ::1] y
    cdef public int64_t[::1] a_in, third
    cdef int64_t fu, fv, vth, n
    cdef bint reward
    cdef double y_decay, y_impulse

    def __init__(self, u, v, bias, int fu, int fv, int vth, spikes, bint reward, double y_decay,
                 double y_impulse, y):
        self.u_arr, self.v_arr, self.spikes_arr, self.y_arr = u, v, spikes, y
        self.u, self.v, self.bias, self.spikes, self.y = u, v, bias, spikes, y
        self.fu, self.fv, self.vth, self.n = fu, fv, vth, u.shape[0]
        self.reward, self.y_decay, self.y_impulse = reward, y_decay, y_impulse
        self.a_in = np.zeros(self.n, dtype=np.int64)
        self.third = np.zeros(self.n, dtype=np.int64)

    cdef void step(self) noexcept nogil:
        """AbstractPyLifModelFixed.run_spk (and RSTDPLIFBitAcc's y1/y2 with ``reward``)."""
        cdef int64_t j, d
        cdef int32_t cur, act
        for j in range(self.n):
            if self.reward:
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
            if self.reward:
                self.y[1, j] = self.third[j]


cdef class Conn:
    """A Dense or LearningDense connection's spiking part (AbstractPyDenseModelBitAcc.run_spk)."""
    cdef public object w_arr, a_buff_arr
    cdef int32_t[:, ::1] w
    cdef public int64_t[::1] a_buff
    cdef int64_t weight_exp, n_pre, n_post
    cdef bint graded
    cdef public int pre_group, pre_input, post_group, third_port

    def __init__(self, w, a_buff, int weight_exp, bint graded, int pre_group, int pre_input,
                 int post_group, bint third_port):
        self.w_arr, self.a_buff_arr, self.w, self.a_buff = w, a_buff, w, a_buff
        self.n_post, self.n_pre = w.shape[0], w.shape[1]
        self.weight_exp, self.graded = weight_exp, graded
        self.pre_group, self.pre_input, self.post_group, self.third_port = pre_group, pre_input, post_group, third_port

    cdef void spikes_in(self, const int64_t *s) noexcept nogil:
        cdef int64_t i, j, acc
        for j in range(self.n_post):
            acc = 0
            if self.graded:
                for i in range(self.n_pre):
                    acc += <int64_t>self.w[j, i] * s[i]
            else:
                for i in range(self.n_pre):
                    if s[i] != 0:
                        acc += self.w[j, i]
            self.a_buff[j] = (acc << self.weight_exp) if self.weight_exp > 0 else (acc >> (-self.weight_exp))


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

    def __init__(self, w, a_buff, int weight_exp, int pre_group, int pre_input, int post_group,
                 x, y, tx, ty, x0, y0, tag_1, tag_2, x_imp_int, x_imp_frac, y_imp_int, y_imp_frac,
                 x_active, y_active, x_factor, y_factor, xr_decay, xr_imp, yr_decay, yr_imp, cv,
                 int64_t k_trace, int64_t k_cv, int t_epoch, int decimate, int sign_mode, bint three_factor,
                 p_start, p_dep, p_mant, p_exp, p_shift, p_fstart, f_code, f_const, f_sgn, f_lo, f_hi):
        Conn.__init__(self, w, a_buff, weight_exp, False, pre_group, pre_input, post_group, False)
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

    cdef void recv_traces(self, const int64_t *s, const uint8_t *bap, Lif post, int64_t t) noexcept nogil:
        cdef int64_t i, j, k
        cdef int64_t within = t % self.t_epoch
        cdef double rnd
        if within == 0:
            within = self.t_epoch
        for i in range(self.n_pre):          # _process_pre_spikes (USE_REGULAR_IMPULSE)
            if s[i] != 0:
                if self.tx[i] > 0:
                    for k in range(2):
                        self.x[k, i] = add_impulse(self.x[k, i], 0.0, self.x_imp_int[k], self.x_imp_frac[k])
                self.tx[i] = within
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

    cdef void learn(self, int64_t time_step) noexcept nogil:
        """run_lrn at the end of an epoch."""
        cdef int64_t i, j, k, tt, T = self.t_epoch, p, f, target, u = 0, dep, acc, val
        cdef int32_t cur
        cdef double xd, yd, xi, yi, rnd, q, fl
        cdef int64_t[:, ::1] var
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
        for target in range(3):
            if self.p_start[target] == self.p_start[target + 1]:
                continue
            out = self.w_new if target == 0 else (self.d_new if target == 1 else self.t_new)
            for j in range(self.n_post):
                for i in range(self.n_pre):
                    if target == 0:
                        acc = <int64_t>self.w[j, i] << 7
                    elif target == 1:
                        acc = self.tag_2[j, i] << 7
                    else:
                        acc = self.tag_1[j, i] << 7
                    for p in range(self.p_start[target], self.p_start[target + 1]):
                        dep = self.p_dep[p]
                        if dep == D_X0:
                            cur = self.x0[i]
                        elif dep == D_Y0:
                            cur = self.y0[j]
                        else:
                            cur = <int32_t>u
                        if cur != 0:
                            for f in range(self.p_fstart[p], self.p_fstart[p + 1]):
                                val = self.factor_value(self.f_code[f], dep, i, j) + self.f_const[f]
                                if self.f_sgn[f]:
                                    val = sign64(val)
                                val = clip64(val, self.f_lo[f], self.f_hi[f])
                                cur = mul32(cur, <int32_t>val)
                            cur = mul32(cur, <int32_t>self.p_mant[p])
                            cur = cur >> self.p_shift[p]
                            cur = <int32_t>(<uint32_t>cur << self.p_exp[p])
                            acc = acc + clip64(cur, ACC_MIN, ACC_MAX)
                        acc = clip64(acc, ACC_MIN, ACC_MAX)
                    # _saturate_synaptic_variable_accumulator
                    if target == 0:
                        if self.sign_mode == 2 and acc < 0:
                            acc = 0
                        elif self.sign_mode == 3 and acc > 0:
                            acc = 0
                    elif target == 1 and acc < 0:
                        acc = 0
                    # _stochastic_round_synaptic_variable (2**7 = exp_mant), >> 7
                    q = <double>acc / 128.0
                    fl = floor(q)
                    acc = <int64_t>fl
                    if rnd < mod1(q):
                        acc += 1
                    # _saturate_synaptic_variable
                    if target == 0:
                        if self.sign_mode == 1:
                            acc = clip64(acc, -256, 255)
                        elif self.sign_mode == 3:
                            acc = -clip64(-acc, 0, 255)
                        else:
                            acc = clip64(acc, 0, 255)
                    elif target == 1:
                        acc = clip64(acc, 0, 255)
                    else:
                        acc = clip64(acc, -257, 255)
                    out[j, i] = acc
        for target in range(3):
            if self.p_start[target] == self.p_start[target + 1]:
                continue
            out = self.w_new if target == 0 else (self.d_new if target == 1 else self.t_new)
            for j in range(self.n_post):
                for i in range(self.n_pre):
                    if target == 0:
                        self.w[j, i] = <int32_t>out[j, i]
                    elif target == 1:
                        self.tag_2[j, i] = out[j, i]
                    else:
                        self.tag_1[j, i] = out[j, i]
        for i in range(self.n_pre):
            self.x0[i] = 0
            self.tx[i] = 0
        for j in range(self.n_post):
            self.y0[j] = 0
            self.ty[j] = 0

    cdef inline int64_t factor_value(self, int64_t code, int64_t dep, int64_t i, int64_t j) noexcept nogil:
        """A factor's value before its constant, as the dependency evaluates it
        (PyLearningConnection._extract_applier_evaluated_traces)."""
        if code == F_X0:
            return self.x0[i]
        if code == F_Y0:
            return self.y0[j]
        if code == F_X1 or code == F_X2:
            if dep == D_X0:
                return self.x_tx[code - F_X1, i]
            if dep == D_Y0:
                return self.xh[self.ty[j], code - F_X1, i]
            return self.x_last[code - F_X1, i]
        if code <= F_Y3:
            if dep == D_X0:
                return self.yh[self.tx[i], code - F_Y1, j]
            if dep == D_Y0:
                return self.y_ty[code - F_Y1, j]
            return self.y_last[code - F_Y1, j]
        if code == F_W:
            return self.w[j, i]
        if code == F_D:
            return self.tag_2[j, i]
        if code == F_T:
            return self.tag_1[j, i]
        return 0                              # C: the constant alone


def run(list lifs, list statics, list plastics, list inputs, int64_t t0, int64_t n_steps, list rasters,
        int64_t snapshot_every, list snapshots):
    """Steps t0+1 .. t0+n_steps (Lava time steps). ``inputs``: (length, size) int64 arrays,
    row k sent at step k+1 (cycling); ``rasters``: a (n, size) uint8 array per group."""
    cdef int64_t n, t, g, c, n_lifs = len(lifs)
    cdef Lif lif
    cdef Conn cn
    cdef Plastic pl
    cdef int64_t[:, ::1] data
    cdef uint8_t[:, ::1] raster
    cdef int64_t[::1] s64
    cdef list s_buf = [np.zeros(l.u_arr.shape[0], dtype=np.int64) for l in lifs]
    cdef int64_t j
    for n in range(n_steps):
        t = t0 + n + 1
        for g in range(n_lifs):
            lif = <Lif>lifs[g]
            lif.a_in[:] = 0
            lif.third[:] = 0
        for c in range(len(statics)):
            cn = <Conn>statics[c]
            lif = <Lif>lifs[cn.post_group]
            if cn.third_port:
                for j in range(lif.n):
                    lif.third[j] += cn.a_buff[j]
            else:
                for j in range(lif.n):
                    lif.a_in[j] += cn.a_buff[j]
        for c in range(len(plastics)):
            cn = <Conn>plastics[c]
            lif = <Lif>lifs[cn.post_group]
            for j in range(lif.n):
                lif.a_in[j] += cn.a_buff[j]
        for g in range(n_lifs):
            lif = <Lif>lifs[g]
            lif.step()
            raster = rasters[g]
            s64 = s_buf[g]
            for j in range(lif.n):
                raster[n, j] = lif.spikes[j]
                s64[j] = lif.spikes[j]
        for c in range(len(statics)):
            cn = <Conn>statics[c]
            s64 = _source(cn, s_buf, inputs, t)
            cn.spikes_in(&s64[0])
        for c in range(len(plastics)):
            pl = <Plastic>plastics[c]
            s64 = _source(pl, s_buf, inputs, t)
            pl.spikes_in(&s64[0])
            lif = <Lif>lifs[pl.post_group]
            pl.recv_traces(&s64[0], &lif.spikes[0], lif, t)
            if t % pl.t_epoch == 0:
                pl.learn(t)
        if snapshot_every and t % snapshot_every == 0:
            snapshots.append((t, [np.asarray(p.w_arr).copy() for p in plastics]))


cdef int64_t[::1] _source(Conn cn, list s_buf, list inputs, int64_t t):
    cdef int64_t[:, ::1] data
    if cn.pre_group >= 0:
        return s_buf[cn.pre_group]
    data = inputs[cn.pre_input]
    return data[(t - 1) % data.shape[0]]
