import hashlib

from subrational.elicitation import PROMPT_VERSION, option_orders, render
from subrational.experiments import Ultimatum, UltimatumState

# A wording change must bump the experiment's or the elicitation's version: the cache, stored
# demonstrations and reports are keyed on the exact text. Update the digest together with it.
GOLDEN = {("ultimatum-v1", 1): "897a6a33ffe00e6867e3d26205a2ab364cd5f5b3f09a7d6a17ed3441c38e941d"}


def _digest(exp) -> str:
    h = hashlib.sha256()
    for method in ("choice-probs", "sample"):
        for persona in exp.personas.values():
            for state in exp.states():
                for order in option_orders(len(exp.actions)):
                    for m in render(exp, persona, state, order, method=method).messages:
                        h.update(f"{m.role}\x00{m.content}\x01".encode())
    return h.hexdigest()


def test_prompt_wording_is_pinned_to_its_version():
    exp = Ultimatum()
    assert _digest(exp) == GOLDEN[(exp.id, PROMPT_VERSION)], (
        "prompt text changed: bump Ultimatum.version or PROMPT_VERSION, then update GOLDEN")


def test_layout_puts_the_persona_first_and_the_state_last():
    exp = Ultimatum()
    fair = exp.persona("fair")
    prompt = render(exp, fair, UltimatumState(0.2), (1, 0), method="choice-probs")
    system, user = prompt.messages
    assert system.role == "system" and "fairness" in system.content
    assert "$2.00" not in system.content
    assert user.content.startswith("John offers you $2.00")
    assert user.content.endswith("Answer with exactly one word: Reject or Accept.")
    other = render(exp, fair, UltimatumState(0.9), (0, 1), method="choice-probs")
    assert other.messages[0] == system  # shared prefix across states
    sample = render(exp, fair, UltimatumState(0.2), (0, 1), method="sample")
    assert 'of the form "Answer: X"' in sample.messages[1].content
