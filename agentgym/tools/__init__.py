"""Tools: typed functions, JSON schemas or an object's methods as agent tools; reading calls."""

from agentgym.tools.function import Tool, ToolCallError, Validation, tool
from agentgym.tools.parsing import TEXT_FORMATS, ParsedCalls, parse_tool_calls
from agentgym.tools.toolbox import Toolbox

__all__ = [
    "Tool",
    "ToolCallError",
    "Validation",
    "tool",
    "ParsedCalls",
    "parse_tool_calls",
    "TEXT_FORMATS",
    "Toolbox",
]
