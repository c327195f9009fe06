import hashlib

import pytest

from subrational.elicitation import PROMPT_VERSION, render, wordings
from subrational.experiments import make
from subrational.studies.ultimatum.game import Ultimatum, UltimatumState

# A wording change must bump the experiment's or the elicitation's version: the cache, stored
# demonstrations and reports are keyed on the exact text. Update the digest together with it.
GOLDEN = {
    ("ultimatum-v1", 1): "897a6a33ffe00e6867e3d26205a2ab364cd5f5b3f09a7d6a17ed3441c38e941d",
    ("ultimatum-v2", 1): "3eab5dc9e62f4e956b9891332e291e3a7c320c42a34f6097305674221b26b302",
    ("marshmallow-v1", 1): "22bdb49a1dbd52c949b2e9c12014c7a49ea57aeda33c59ea612060d33dab617f",
    ("marshmallow-v2", 1): "e953f04a4f4d60e64c014805d686f0e18539f5c629a5f97f9b313d0565e58fa1",
    ("double_or_nothing-v1", 1):
        "fcd7e5f029156835d5d9e6ff3c52c5feb447a356603e8500da29df3776635df6",
    ("double_or_nothing-v2", 1):
        "199e52a474167ac5b04427395391859bf97d7bf81f916e3e5cee65af98f801e4",
    ("procrastination-v1", 1):
        "e35aee86b0107bb43ca7e97f4324e8d9833ebeed6c4c813f41b0f9a7a36e803c",
    ("procrastination-v2", 1):
        "02d503a18c41056cf881c432d61ae21554c49c80e81e9c95f1687ff4f056281c",
}


def _digest(exp) -> str:
    h = hashlib.sha256()
    for method in ("choice-probs", "sample"):
        for persona in exp.personas.values():
            for state in exp.states():
                for paraphrase, order in wordings(exp):
                    prompt = render(exp, persona, state, order, method=method,
                                    paraphrase=paraphrase)
                    for m in prompt.messages:
                        h.update(f"{m.role}\x00{m.content}\x01".encode())
    return h.hexdigest()


@pytest.mark.parametrize("vid", sorted(vid for vid, _ in GOLDEN))
def test_prompt_wording_is_pinned_to_its_version(vid):
    exp = make(vid)
    assert _digest(exp) == GOLDEN[(exp.id, PROMPT_VERSION)], (
        f"prompt text of {vid} changed: bump its version or PROMPT_VERSION, then update GOLDEN")


def test_every_built_in_study_has_a_pinned_wording_and_three_paraphrases():
    from subrational.experiments import latest_ids, study

    # Built-in studies only: games other tests register (split-test, ...) are not pinned here.
    for vid in [v for v in latest_ids().values() if study(v).from_paper]:
        exp = make(vid)
        assert (vid, PROMPT_VERSION) in GOLDEN, f"add the digest of {vid} to GOLDEN"
        texts = exp.paraphrases(next(iter(exp.personas.values())))
        assert len(set(texts)) >= 4 and texts[0] == exp.instructions(
            next(iter(exp.personas.values())))


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


# A population's prompts are pinned too: the text of a person is each study's population
# template (``population_template_version``); a change bumps that version and these digests.
ADULTS = [{"id": "ann", "age": 34.0, "gender": "female", "country": "the United States",
           "education": "bachelor's degree", "income": 55000.0, "occupation": "nurse",
           "conscientiousness": 4.0},
          {"id": "bob", "age": 81.0, "gender": "male", "country": "Chile",
           "education": "high school", "income": 0.0, "occupation": "retired teacher",
           "conscientiousness": 2.5}]
CHILDREN = [{"id": "kim", "age": 4.0, "gender": "female", "country": "Japan"},
            {"id": "lee", "age": 8.0, "gender": "male", "country": "Canada"}]
GOLDEN_POPULATION = {
    ("ultimatum-v2", 1):
        "51658c643eb8cc3a6e23de35c36f5aeab132235680b9e6eb09beb485b92711b1",
    ("marshmallow-v1", 1):
        "3e824c3a95125d67a0523d114b2d27743e482d22a545a826c03a1cb727a592b2",
    ("marshmallow-v2", 1):
        "fe020a9c32fedf3ec875328f7b8a0c8ecc739f371dcd40cef391aa61196bb6bf",
    ("double_or_nothing-v1", 1):
        "62bf5e17935bba2711962c8d25809dfa0caa0f7aede1fa2bd112a8d83934b257",
    ("double_or_nothing-v2", 1):
        "a8abc34e57779e18ca1faf0016c14da90e632d488d096715374e8231d0481bc6",
    ("procrastination-v1", 1):
        "35cc08eef5ed071adf84f4df303291fe36fb1aabf3a9224ebddc51d989b60622",
    ("procrastination-v2", 1):
        "e208101f4a6f681db826e24d44be9185e553054df50ece32b8ab11910cab8c20",
}


@pytest.mark.parametrize("vid", sorted(vid for vid, _ in GOLDEN_POPULATION))
def test_population_prompts_are_pinned_to_their_template_version(vid):
    exp = make(vid, population=CHILDREN if vid.startswith("marshmallow") else ADULTS)
    key = (exp.id, exp.population_template_version)
    assert _digest(exp) == GOLDEN_POPULATION[key], (
        f"population prompt text of {vid} changed: bump its population_template_version, then "
        "update GOLDEN_POPULATION")
