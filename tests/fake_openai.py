"""The scripted OpenAI-compatible server lives in evals/scripted_server.py (the llm eval suite uses it too)."""

from evals.scripted_server import *  # noqa: F403
from evals.scripted_server import FakeOpenAI, Reply, auto_embeddings, chat_reply, embedding_reply, fake_vector  # noqa: F401
