"""Hardware linter: before anything runs, every value the target will clip, truncate, wrap or approximate.

``lint(ir, target="loihi2")`` returns hwmodels.loihi.Finding objects, one per issue,
each naming the population or projection, the value, what the hardware will do and
the fix; ``spikecore lint`` (spikecore/cli/lint.py) prints one line each and exits 1
when any is an error. The rules are those of the Loihi profile (hwmodels/loihi.py,
which also drives the Lava backend, so the linter and the deployment agree):
12-bit decays, 17-bit thresholds, 13-bit biases, 8-bit weights with a sign mode and
a shared exponent, 6-bit delays, 16-bit inputs and 24-bit state, one du/dv/vth per
LIF process, and parameters Lava would silently ignore. Loihi 2 hardware runs in
fixed point, so it is linted as fixed point. Plastic projections are linted as Lava
learning rules (hwmodels/loihi_learning_rules.py): trace widths, impulse and decay
representability, weight precision after learning, epoch granularity, and rules the
learning engine cannot express. A network written in Loihi's integers
(model ``loihi_lif``) needs no quantization: its findings say where it runs and why the
float backends refuse it, and what its processes and inputs risk.
"""
from __future__ import annotations

from spikecore import ir as _ir
from spikecore.errors import ValidationError
from spikecore.models import MODELS

from . import loihi, loihi_learning_rules

TARGETS = ("loihi2",)
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def lint(g: _ir.IRGraph, target: str = "loihi2", headroom: float = loihi.DEFAULT_HEADROOM,
         num_weight_bits: int = loihi.WEIGHT_BITS) -> list:
    """All findings for deploying ``g`` to ``target``, errors first (stable within a severity)."""
    if target not in TARGETS:
        raise ValidationError("target", target, "one of " + ", ".join(TARGETS))
    integer = [p for p in g.populations.values() if getattr(MODELS.get(p.model), "synapse", None) == "integer"]
    if integer:
        return sorted(_integer_findings(g, integer), key=lambda f: SEVERITY_ORDER[f.severity])
    qir, report = loihi.quantize_with_report(g, policy="approximate", headroom=headroom,
                                              num_weight_bits=num_weight_bits)
    findings = (list(report.findings) + _threshold_findings(g, qir) + _process_findings(qir)
                + _learning_findings(g, qir))
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])


def _learning_findings(g, qir) -> list:
    """The plastic projections as fixed-point Lava learning rules: what each costs."""
    nmap = loihi.map_network(g, fixed=True)
    gain, unit = {}, {}
    for name, e in g.projections.items():
        if e.plasticity is None or name not in nmap.synapses:
            continue
        gain[name] = nmap.neurons[e.post].weight_gain[e.receptor]
        unit[name] = qir.populations[e.post].attrs["scale"] / (1 << loihi.ACT_SHIFT)
    return loihi_learning_rules.map_learning(g, gain, True, unit)[1]


def _integer_findings(g, integer: list) -> list:
    """Findings of a network written in Loihi's integers: nothing to quantize; where it runs."""
    model = MODELS[integer[0].model]
    out = []
    floats = [p for p in g.populations.values() if p not in integer]
    if floats:
        out.append(loihi.Finding(
            "error", "integer and float models together", f"population {floats[0].name}",
            f"{floats[0].model} beside {model.name} (population {integer[0].name})",
            "neither backend quantizes part of a network", f"write every population in {model.name}, or none",
            "nothing: it cannot be approximated"))
    for p in integer:
        q = p.params
        out.append(loihi.Finding(
            "info", "written in Loihi's integers", f"population {p.name}",
            f"{model.name} du={int(q['du'])} dv={int(q['dv'])} vth={int(q['vth'])}",
            "runs only in Loihi's fixed-point arithmetic, native --format loihi and lava --format fixed (bit for "
            "bit alike); the grid and precise engines, Brian2, NEST, lava --format float and NIR refuse it, as its "
            "parameters are Loihi's integer registers, not volts and seconds",
            "nothing for Loihi; for the float simulators write it in a float model (e.g. lif_cuba) and let "
            "hwmodels.loihi.quantize write the integers"))
    if not floats:
        loihi._state_findings(g, out)
        out += _process_findings(g)
    return out


def _threshold_findings(g, qir) -> list:
    """Where the 17-bit threshold mantissa puts the threshold, and what that costs: the
    resolution of every input (1/vth of the threshold distance) and where v saturates."""
    out = []
    for name, pop in qir.populations.items():
        vth = pop.params["vth"]
        dist = (vth << loihi.VTH_SHIFT) / pop.attrs["scale"]
        lo = pop.attrs["v_reset"] - loihi.STATE_MAX / pop.attrs["scale"]
        hi = pop.attrs["v_reset"] + loihi.STATE_MAX / pop.attrs["scale"]
        out.append(loihi.Finding(
            "info", "17-bit threshold", f"population {name}",
            f"vth = {vth} ({vth.bit_length()} of {loihi.VTH_BITS} bits) for {dist * 1e3:g} mV",
            f"inputs resolve to {dist / vth * 1e6:.3g} uV; v saturates outside [{lo * 1e3:.4g}, {hi * 1e3:.4g}] mV",
            "lower headroom for finer inputs, raise it for a wider v range"))
    return out


def _process_findings(qir) -> list:
    groups = loihi.lif_groups(qir.populations, lambda p: (p.params["du"], p.params["dv"], p.params["vth"]))
    if len(groups) <= 1:
        return []
    out = []
    first = qir.populations[groups[0][0]].params
    for names in groups[1:]:
        p = qir.populations[names[0]].params
        diff = [f"{k} {p[k]} vs {first[k]}" for k in ("du", "dv", "vth") if p[k] != first[k]]
        out.append(loihi.Finding(
            "info", "heterogeneous du/dv/vth", "population " + ", ".join(names),
            "; ".join(diff) + f" (vs {groups[0][0]})",
            f"an extra LIF process ({len(groups)} in all): du, dv and vth are one value per process",
            "give populations meant to share a process the same tau_mem, tau_syn and threshold distance"))
    return out


def summary(findings: list) -> str:
    counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "info")}
    return f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)"
