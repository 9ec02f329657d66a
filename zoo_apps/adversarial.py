"""The image app's adversarial-training flags and the run entry they make (`zoo.explainability.adversarial`)."""

from absl import flags

from zoo.explainability import adversarial


def define_flags(flag_values):
    define = dict(flag_values=flag_values)
    flags.DEFINE_enum(
        "adversarial",
        "none",
        list(adversarial.METHODS),
        "Adversarial training (Madry et al. 2018): train on FGSM or PGD versions of every batch, crafted "
        "against the current weights within --adversarial_epsilon pixels.",
        **define,
    )
    flags.DEFINE_float(
        "adversarial_epsilon", 8.0, "L-infinity budget of the training attack, in pixels of 0-255.", **define
    )
    flags.DEFINE_integer("adversarial_steps", adversarial.DEFAULT_STEPS, "PGD steps of the training attack.", **define)


def run_entry(flag_values):
    """`{"adversarial": settings}` for config.json's run, or `{}` without adversarial training (or the flags)."""
    if "adversarial" not in flag_values:
        return {}
    fv = flag_values
    settings = adversarial.settings(fv.adversarial, fv.adversarial_epsilon, fv.adversarial_steps)
    return dict(adversarial=settings) if settings else {}
