/* The grid engine's plasticity rules: a presynaptic and a postsynaptic function per rule,
 * and their registry (by the rule's name, spikecore/plasticity).
 *
 * Included by _kernel_impl.h once per state type. The functions have the fixed signatures
 * sc_plastic_pre_fn / sc_plastic_post_fn (_kernel.h): they update one synapse (its weight
 * w, rule state s0 and s1, the step of its last event) at step n; the presynaptic one
 * returns the value delivered to the target; a rule that
 * ignores postsynaptic spikes registers NULL as its post function; a rule with a neuromodulator
 * (three_factor) registers its modulator function (sc_plastic_mod_fn), the others NULL. _core.pyx looks them up per plastic
 * projection (sc_plastic_rule) and the step loop calls them through sc_net.pl_pre/pl_post.
 *
 * Adding a rule: its header in plasticity/, one #include and one line in the table below.
 */
#include "plasticity/stdp_pair.h"
#include "plasticity/stdp_triplet.h"
#include "plasticity/tsodyks_markram.h"
#include "plasticity/three_factor.h"

static const sc_plastic_entry FN(sc_plastic_rules)[] = {
    {"stdp_pair", FN(stdp_pair_pre), FN(stdp_pair_post), NULL},
    {"stdp_triplet", FN(stdp_triplet_pre), FN(stdp_triplet_post), NULL},
    {"tsodyks_markram", FN(tsodyks_markram_pre), NULL, NULL},
    {"three_factor", FN(three_factor_pre), FN(three_factor_post), FN(three_factor_mod)},
    {NULL, NULL, NULL, NULL},
};
