# Typed contract of the native engine's kernel (body in _core.pyx, step loop in
# _kernel.c/_kernel_impl.h, declared in _kernel.h). The Python wrapper
# (spikecore.engine.simulator) validates and allocates every array; Kernel keeps
# references to them and hands their addresses to the C step loop.

from libc.stdint cimport int64_t, int32_t, uint16_t, uint32_t, uint64_t, uint8_t

cdef extern from "_kernel.h" nogil:
    enum: SC_PH_N, SC_PH_CPU, SC_PH_PARTS
    ctypedef int (*sc_update_fn)(const void *b)
    ctypedef double (*sc_plastic_pre_fn)(const double *P, void *w, void *st, int64_t *last, int64_t n, double dt)
    ctypedef void (*sc_plastic_post_fn)(const double *P, void *w, void *st, int64_t *last, int64_t n, double dt)
    ctypedef void (*sc_plastic_mod_fn)(const double *P, void *w, void *st, int64_t *last, int64_t n, double dt,
                                       double value, int set)

    ctypedef struct sc_block:
        int64_t m, n, stride, n_rec
        double dt
        void *v
        void *syn
        void *pend
        const void *drive
        double d0, decay_mem, vth
        const int64_t *free_at
        const double *param
        const void *nparam
        void *xstate
        const double *rec_decay
        const double *rec_coef
        const double *rec_erev
        uint8_t *crossed
        int64_t first
        const int32_t *spikes
        int64_t n_spikes
        void *due

    ctypedef struct sc_hist_pos:
        int32_t head
        int32_t len
        int64_t recent[3]

    ctypedef struct sc_net:
        int64_t n_neurons, n_channels, ring_len, n_pops, n_pre, n_parts, n_team
        int64_t window
        double dt
        const sc_update_fn *pop_update
        const sc_update_fn *pop_reset
        const int32_t *pop_ref_steps
        const int32_t *pop_jump_input
        const int64_t *pop_start
        const int64_t *pop_size
        const int64_t *pop_n_rec
        const int64_t *pop_rec_start
        const int64_t *pop_chan_start
        const int32_t *pop_has_drive
        const int32_t *pop_ring_input
        const double *pop_vth
        const double *pop_vreset
        const int32_t *pop_neuron_thr
        const void *neuron_vth
        const void *neuron_vreset
        const int32_t *neuron_ref
        const double *pop_decay_mem
        const double *pop_d0
        const double *pop_param
        const int64_t *pop_param_start
        const int64_t *pop_nparam_start
        const int64_t *pop_xstate_start
        const int64_t *pop_vth_state
        void *xstate
        const void *nparam
        const double *rec_decay
        const double *rec_coef
        const double *rec_erev
        const double *rec_tau
        const int64_t *part
        void *v
        void *syn
        void *drive
        void *ring
        int64_t *free_at
        const int32_t *neuron_pop
        const int64_t *row_ptr
        const int64_t *seg_ptr
        const uint16_t *seg_delay
        const uint16_t *seg_len
        const uint16_t *seg_block
        const uint16_t *syn_chan
        const void *syn_weight
        const void *row_w
        int64_t n_pk
        const int64_t *pk_ptr
        const uint32_t *pk_syn
        const float *pk_w
        const void *pk_row_w
        const int64_t *pk_gptr
        const uint32_t *pk_grp
        int32_t *touched
        int64_t *touched_n
        uint8_t *mark
        uint64_t *bk
        int64_t *bk_n
        int64_t bk_cap
        const int64_t *chan_ofs
        int64_t n_ev, ev_ptr
        const int64_t *ev_step
        const int32_t *ev_pre
        int64_t pois_base, n_pois, n_pnodes
        const int64_t *pn_first
        const int64_t *pn_size
        const int64_t *pn_on
        const int64_t *pn_off
        const int64_t *pn_toff
        const int32_t *pn_tlen
        const uint64_t *pn_seed
        const int64_t *pr_lo
        const int64_t *pr_hi
        const int64_t *pd_off
        const int64_t *pd_defer
        const uint8_t *pd_contig
        const int32_t *pd_chan
        const uint16_t *pd_delay
        const void *pd_weight
        const int64_t *pt_off
        const int32_t *pt_len
        const double *cdf
        int64_t n_rec
        const int32_t *rec_kind
        const int32_t *rec_owner
        const int64_t *rec_idx
        const int64_t *rec_every
        double *thread_cpu
        int32_t pin_threads
        int32_t split_mode
        int64_t *ph_log
        int64_t *ph_n
        int64_t ph_cap
        int64_t n_pl_seg
        const int64_t *pl_seg_ptr
        const int64_t *pl_seg_start
        const int32_t *pl_seg_delay
        const int32_t *pl_seg_proj
        const int32_t *pl_seg_dend
        const int64_t *pl_pg_ptr
        const int64_t *pl_pg_start
        const int64_t *pl_pg_end
        const int32_t *pl_pg_delay
        int64_t *pl_pq
        int64_t *pl_pqn
        const int64_t *pl_pqofs
        const int64_t *pl_pqcap
        const int32_t *pl_chan
        const int32_t *pl_syn_proj
        void *pl_w
        void *pl_state
        int64_t pl_nstate
        int64_t *pl_last
        const int64_t *pl_post_ptr
        const int64_t *pl_post_syn
        const double *pl_param
        const int64_t *pl_param_start
        const int32_t *pl_sparse
        const sc_plastic_pre_fn *pl_pre
        const sc_plastic_post_fn *pl_post
        int64_t *pl_q
        int64_t *pl_qn
        const int64_t *pl_qofs
        const int64_t *pl_qcap
        int64_t n_pl_mod
        const int64_t *pl_mod_ptr
        const int64_t *pl_mod_start
        const int64_t *pl_mod_end
        const int64_t *pl_mod_syn
        const int32_t *pl_mod_delay
        const int32_t *pl_mod_proj
        const sc_plastic_mod_fn *pl_mod
        const int32_t *pl_lazy
        const int32_t *pl_seg_pdel
        const int32_t *pl_pg_lazy
        const int32_t *pl_chan_neuron
        int32_t pl_chan_is_neuron
        int32_t pl_chan_distinct
        const int32_t *pl_nin
        int64_t pl_hist_len
        int64_t pl_hist_dmax
        int64_t *pl_hist
        sc_hist_pos *pl_hpos
        uint8_t *pl_pdone
        const int32_t *pl_fast
        const int32_t *pl_fast_proj
        const int32_t *pl_nin_slow
        const int64_t *pl_fast_nrn_ptr
        const int32_t *pl_fast_nrn
        int64_t n_pl_fast
        void *pl_seg_x
        int64_t *pl_seg_last
        int64_t *pl_seg_from
        void *pl_fpost
        int64_t *pl_fast_done

    int64_t sc_run_f64(sc_net *net, int64_t n0, int64_t n1, int64_t *out_step, int32_t *out_idx,
                       int64_t *out_n, int64_t cap, double *rec_out, int64_t *rec_pos)
    int64_t sc_run_f32(sc_net *net, int64_t n0, int64_t n1, int64_t *out_step, int32_t *out_idx,
                       int64_t *out_n, int64_t cap, double *rec_out, int64_t *rec_pos)
    void sc_poisson_counts(const sc_net *net, int64_t n, int64_t k0, int64_t k1, uint16_t *out)
    int sc_openmp_enabled()
    int sc_set_plastic_simd(int enable)
    int64_t sc_ticks()
    sc_update_fn sc_update_function(const char *name, int single)
    void sc_exp_values(double *y, const double *x, int64_t n)
    void sc_expf_values(float *y, const float *x, int64_t n)
    int sc_exp_vector_enabled(int single)
    int sc_plastic_rule(const char *name, int single, sc_plastic_pre_fn *pre, sc_plastic_post_fn *post,
                        sc_plastic_mod_fn *mod)
    void sc_modulate_f64(sc_net *net, int32_t q, const int64_t *syn, int64_t n_syn, int64_t n, double value, int set)
    void sc_modulate_f32(sc_net *net, int32_t q, const int64_t *syn, int64_t n_syn, int64_t n, double value, int set)
    void sc_plastic_settle_f64(sc_net *net, int64_t n)
    void sc_plastic_settle_f32(sc_net *net, int64_t n)


cdef class Kernel:
    cdef sc_net net
    cdef dict arrays        # keeps every array the struct points into alive
    cdef readonly bint single
    cdef readonly int64_t n_neurons, n_threads, n_parts
    cdef readonly int64_t reached   # the step after the last one run (where lazy plastic updates settle)
    cdef object _ph_log, _ph_n      # the phase profile's arrays (profile_windows)
