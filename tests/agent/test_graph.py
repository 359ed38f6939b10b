"""The graph's wiring, driven by a scripted tool-calling model: planning, acting through the cache, answering,
and every failure path leaving the thread usable. Tools, cache, router, checkpointer and prompts are real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import openai
import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.sqlite import SqliteSaver

from agent.evidence import EvidenceCache
from agent.graph import AgentParts, build_graph, turn_input
from agent.router import SemanticRouter
from agent.session import open_threads, use_torch_threads
from tests.agent.scripted import CountingBrightnessTool, ScriptedChatModel, call
from tools.media import save_image
from tools.settings import Settings, get_settings
from tools.text_embedding import get_text_embedder


@pytest.fixture()
def photo(tmp_path: Path, astronaut: np.ndarray) -> str:
    return str(save_image(tmp_path / "astronaut.png", astronaut))


@pytest.fixture()
def level(photo: str) -> str:
    """The label the brightness tool gives this photo, measured outside the graph."""
    label = CountingBrightnessTool().measure(photo).label
    assert label is not None
    return label


@pytest.fixture()
def threads() -> Iterator[SqliteSaver]:
    with open_threads(get_settings()) as saver:
        yield saver


class Harness:
    """A graph over one scripted model and the counting tool."""

    def __init__(self, model: ScriptedChatModel, threads: SqliteSaver, native: bool = True, vision: bool = False):
        self.model = model
        self.tool = CountingBrightnessTool()
        settings: Settings = get_settings()
        use_torch_threads(settings)
        tools = [self.tool.tool()]
        router = SemanticRouter(tools, get_text_embedder().encode, settings.router_min_score, settings.router_margin)
        parts = AgentParts(
            model,
            "http://scripted/v1",
            tools,
            router,
            EvidenceCache(settings.home / "evidence"),
            settings,
            native_tools=native,
            vision=vision,
        )
        self.graph = build_graph(parts, threads)

    def ask(self, question: str, media: str, thread: str = "t1") -> dict:
        config = {"configurable": {"thread_id": thread}}
        self.graph.invoke(turn_input(question, [media], "local"), config)
        return self.graph.get_state(config).values


def test_native_tool_call_runs_the_tool_and_the_answer_cites_its_evidence(
    threads: SqliteSaver, photo: str, level: str
) -> None:
    model = ScriptedChatModel(script=[call("measure_brightness", {"media": photo}), "done", "It is bright."])
    state = Harness(model, threads).ask("How bright is it?", photo)
    answer = state["answer"]
    assert answer["label"] == level
    assert answer["explanation"] == "It is bright."
    assert [run["tool"] for run in answer["tools"]] == ["measure_brightness"]
    assert answer["tools"][0]["cached"] is False
    assert answer["evidence"][0]["tool"] == "measure_brightness"
    assert model.bound_tools[0] == ["measure_brightness"]
    tool_messages = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert len(tool_messages) == 1 and f'"label":"{level}"' in tool_messages[0].content


def test_follow_up_reuses_cached_evidence_without_running_the_tool(
    threads: SqliteSaver, photo: str, level: str
) -> None:
    model = ScriptedChatModel(
        script=[
            call("measure_brightness", {"media": photo}),
            "done",
            "Bright.",
            call("measure_brightness", {"media": "astronaut.png"}, "call_2"),
            "done",
            "Still bright.",
        ]
    )
    harness = Harness(model, threads)
    harness.ask("How bright is it?", photo)
    state = harness.ask("And now?", photo)
    assert harness.tool.runs == 1
    assert state["answer"]["tools"][0]["cached"] is True
    assert state["answer"]["label"] == level


def test_unknown_tool_gets_an_error_result_and_the_thread_goes_on(threads: SqliteSaver, photo: str, level: str) -> None:
    model = ScriptedChatModel(
        script=[
            call("read_minds", {"media": photo}),
            "done",
            "I could not.",
            call("measure_brightness", {"media": photo}, "call_2"),
            "done",
            "Bright.",
        ]
    )
    harness = Harness(model, threads)
    state = harness.ask("What is she thinking?", photo)
    errors = [m for m in state["messages"] if isinstance(m, ToolMessage) and m.status == "error"]
    assert "there is no tool 'read_minds'" in errors[0].content and "measure_brightness" in errors[0].content
    assert state["answer"]["label"] is None
    state = harness.ask("How bright is it?", photo)
    assert state["answer"]["label"] == level


def test_malformed_tool_arguments_are_reported_to_the_model(threads: SqliteSaver, photo: str, level: str) -> None:
    broken = AIMessage(
        content="",
        invalid_tool_calls=[
            {
                "name": "measure_brightness",
                "args": '{"media": ',
                "id": "call_9",
                "error": "Expecting value",
                "type": "invalid_tool_call",
            }
        ],
    )
    model = ScriptedChatModel(
        script=[broken, call("measure_brightness", {"media": photo}, "call_10"), "done", "Bright."]
    )
    state = Harness(model, threads).ask("How bright is it?", photo)
    error = next(m for m in state["messages"] if isinstance(m, ToolMessage) and m.status == "error")
    assert "not valid JSON" in error.content
    second_plan = model.received[1]
    assert any(isinstance(m, ToolMessage) and "not valid JSON" in m.content for m in second_plan)
    assert state["answer"]["label"] == level


def test_arguments_of_the_wrong_type_and_media_not_in_play_are_refused(threads: SqliteSaver, photo: str) -> None:
    model = ScriptedChatModel(script=[call("measure_brightness", {"media": "/etc/passwd"}), "done", "No."])
    harness = Harness(model, threads)
    state = harness.ask("How bright is it?", photo)
    error = next(m for m in state["messages"] if isinstance(m, ToolMessage))
    assert "not a media file in play" in error.content
    assert harness.tool.runs == 0


def test_a_timeout_of_the_model_is_a_clear_error_and_the_label_stands(
    threads: SqliteSaver, photo: str, level: str
) -> None:
    timeout = openai.APITimeoutError(request=__import__("httpx").Request("POST", "http://scripted/v1/chat/completions"))
    model = ScriptedChatModel(script=[call("measure_brightness", {"media": photo}), "done", timeout, "done", "Bright."])
    harness = Harness(model, threads)
    state = harness.ask("How bright is it?", photo)
    assert "did not answer within" in state["answer"]["error"]
    assert state["answer"]["label"] == level
    state = harness.ask("Is it bright?", photo)
    assert state["answer"]["error"] is None and state["answer"]["explanation"] == "Bright."


def test_an_unreachable_model_while_planning_still_answers_from_no_evidence(threads: SqliteSaver, photo: str) -> None:
    down = openai.APIConnectionError(request=__import__("httpx").Request("POST", "http://scripted/v1/chat/completions"))
    model = ScriptedChatModel(script=[down])
    state = Harness(model, threads).ask("How bright is it?", photo)
    assert "cannot reach the chat model at http://scripted/v1" in state["answer"]["error"]
    assert len(model.received) == 1  # the answer step did not try the dead endpoint again


def test_router_plans_when_the_model_has_no_tool_calls(threads: SqliteSaver, photo: str, level: str) -> None:
    model = ScriptedChatModel(script=["The picture is bright."])
    harness = Harness(model, threads, native=False)
    state = harness.ask("Is this image light or dark?", photo)
    assert harness.tool.runs == 1
    assert state["answer"]["label"] == level
    assert model.bound_tools == []  # the model was never offered tools
    assert len(model.received) == 1  # only the answer was asked of it


def test_images_go_in_the_user_message_never_in_tool_results(threads: SqliteSaver, photo: str) -> None:
    model = ScriptedChatModel(script=["Bright."])
    harness = Harness(model, threads, native=False, vision=True)
    state = harness.ask("How bright is this picture?", photo)
    sent = model.received[-1]
    images = [
        part
        for m in sent
        if isinstance(m.content, list)
        for part in m.content
        if isinstance(part, dict) and part.get("type") == "image_url"
    ]
    assert len(images) == 1 and isinstance(sent[-1], HumanMessage)
    assert not any(isinstance(m, ToolMessage) for m in sent)
    frames = state["answer"]["evidence"][0]["frames"]
    assert len(frames) == 1 and Path(frames[0]).is_file()


def test_a_resumed_thread_keeps_its_history(threads: SqliteSaver, photo: str) -> None:
    model = ScriptedChatModel(script=["Bright.", "You asked about brightness."])
    harness = Harness(model, threads, native=False)
    harness.ask("How bright is this picture?", photo, thread="keep")
    again = Harness(model, threads, native=False)  # a new graph over the same SQLite store
    state = again.ask("What did I ask before?", photo, thread="keep")
    questions = [m.content for m in state["messages"] if isinstance(m, HumanMessage)]
    assert questions == ["How bright is this picture?", "What did I ask before?"]
    history = model.received[-1]
    assert any(isinstance(m, HumanMessage) and m.content == "How bright is this picture?" for m in history)
