"""Tools: typed Python functions as agent tools, and reading calls from model output."""

from agentgym.tools.function import Tool, ToolCallError, tool
from agentgym.tools.parsing import ParsedCalls, parse_tool_calls
from agentgym.tools.toolbox import Toolbox

__all__ = ["Tool", "ToolCallError", "tool", "ParsedCalls", "parse_tool_calls", "Toolbox"]
