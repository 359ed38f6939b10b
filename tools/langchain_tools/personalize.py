"""Personalized portraits as a tool ("make portraits of me as a painter, keeping my face"): learns the person from
the photo in play (ID-EA) unless already learned, generates, and cites the identity similarity the recognizers
measured on the results. Without a configured Stable Diffusion model it says so plainly and generates nothing."""

from __future__ import annotations

from langchain_core.tools import BaseTool
from pydantic import Field

from tools.errors import ConfigError
from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.types import Finding
from tools.personalize import PersonalizeOptions, generate_portraits, personalization_path, train_person
from tools.personalize.generation import resolve_prompt
from tools.personalize.model import placeholder_for
from tools.personalize.state import load
from tools.settings import Settings, get_settings

NOT_CONFIGURED = (
    "No Stable Diffusion model is configured, so no portrait was generated: set MIEN_SD_MODEL to a local Stable "
    "Diffusion folder in diffusers layout (nothing is downloaded)."
)


class PersonalizeArgs(MediaArgs):
    prompt: str = Field(
        default="a portrait photo of the person",
        description="What to generate, e.g. 'a painting of the person in the snow'.",
    )
    name: str = Field(default="person", description="Name the learned person is kept under.")
    steps: int = Field(default=400, ge=1, le=5000, description="Training steps when the person is not learned yet.")
    count: int = Field(default=1, ge=1, le=8, description="Portraits to generate.")


def personalize_portraits(
    media: str, prompt: str = "a portrait photo of the person", name: str = "person", steps: int = 400, count: int = 1
) -> Finding:
    """Learn the person in the photo ``media`` (once per name) and write portraits for ``prompt``."""
    settings = get_settings()
    if settings.sd_model is None:
        facts = {"configured": False, "setting": "MIEN_SD_MODEL"}
        return Finding("personalize", media, "no Stable Diffusion model configured", NOT_CONFIGURED, facts)
    path = personalization_path(name)
    trained = None
    if not path.is_file():
        trained = train_person(name, [media], options=PersonalizeOptions(steps=steps))
    learned = load(path)
    placeholder = placeholder_for(name)
    try:
        resolve_prompt(prompt, learned)
    except ConfigError:  # the model wrote the prompt without the person's token: put the person first
        prompt = f"a portrait of {placeholder}, {prompt}"
    # scored against the photo in play: the one the user asks about (and the only one an agent's run may read)
    result = generate_portraits(path, prompt, settings.home / "portraits", count=count, references=[media])
    likeness = []
    for score in result.scores:
        for item in score.recognizers:
            likeness.append(
                {
                    "file": score.file,
                    "recognizer": item.recognizer,
                    "identity_similarity": item.similarity,
                    "same_person_at": item.threshold,
                    "same_person": item.same_person,
                    **({"note": item.note} if item.note else {}),
                }
            )
    same = sum(1 for entry in likeness if entry["same_person"])
    measured = sum(1 for entry in likeness if entry["identity_similarity"] is not None)
    summary = (
        f"wrote {len(result.files)} portrait(s) of {name} ({result.method}) for {prompt!r}; identity kept by "
        f"{same} of {measured} recognizer measurements on the generated faces"
        + (f" ({len(likeness) - measured} found no face)" if measured < len(likeness) else "")
        + " (similarity of recognizer embeddings: an estimate of likeness, not proof of identity)"
    )
    facts = {
        "configured": True,
        "method": result.method,
        "prompt": prompt,
        "files": result.files,
        "identity": likeness,
        "trained_now": trained is not None,
        **({"seconds_per_training_step": round(trained.seconds_per_step, 3)} if trained else {}),
        "notes": result.notes,
    }
    return Finding("personalize", media, f"{len(result.files)} portraits", summary, facts, files=result.files)


def build(settings: Settings) -> BaseTool:
    return finding_tool(
        name="personalize",
        description="Generate new portraits of the person in a photo from a text prompt (as a painter, in the snow), "
        "keeping their face (ID-EA personalization of a local Stable Diffusion model); reports the identity "
        "similarity of the results, or that no Stable Diffusion model is configured.",
        run=personalize_portraits,
        args_schema=PersonalizeArgs,
        versions={"personalize": "id-ea-1", "sd_model": str(settings.sd_model or "")},
        examples=[
            "Make portraits of me as a painter, keeping my face.",
            "Generate a picture of this person in the snow.",
            "Create an image of her as an astronaut on the moon that still looks like her.",
            "Draw this man as a medieval knight, same face.",
        ],
        kinds=("image",),
    )
