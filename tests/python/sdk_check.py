#!/usr/bin/env python3
"""Checks that the official Genesys Cloud Python SDK works against genesys-sim.

The SDK (PyPI `purecloudplatformclientv2`) authenticates with client credentials, lists queues,
runs an aggregates query, a details query and a details job, and deserializes every response into
its typed models. Any failure, including an enum value the SDK does not know (which it silently
turns into "outdated_sdk_version"), exits non-zero with a loud message.

Usage:
    python3 sdk_check.py [--base URL] [--client-id ID] [--client-secret SECRET] [--interval START/END]

Defaults come from GENESYSCLOUD_API_BASE, GENESYSCLOUD_OAUTHCLIENT_ID and
GENESYSCLOUD_OAUTHCLIENT_SECRET (what `genesys-sim` prints), then sim-client / sim-secret.
The default interval is the 7 whole UTC days before today, which the simulator's default dataset
(ending today) covers; pass --interval when the simulator runs with --end-date.

The SDK derives its login host by replacing `//api.` with `//login.` in the API base; a base
such as http://127.0.0.1:PORT has no `api.`, so the token request goes to <base>/oauth/token,
which is where the simulator serves it.
"""

import argparse
import datetime
import os
import sys
import traceback


def fail(message):
    print("", file=sys.stderr)
    print("!" * 72, file=sys.stderr)
    print(f"SDK CHECK FAILED: {message}", file=sys.stderr)
    print("!" * 72, file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def no_outdated_enums(name, model):
    """The SDK maps enum values it does not know to this marker instead of raising."""
    text = repr(model.to_dict())
    check("outdated_sdk_version" not in text, f"{name}: the SDK did not recognise an enum value")


def default_interval():
    today = datetime.datetime.now(datetime.timezone.utc).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    start = today - datetime.timedelta(days=7)
    return f"{start:%Y-%m-%dT%H:%M:%S.000Z}/{today:%Y-%m-%dT%H:%M:%S.000Z}"


def last_day(interval):
    end = datetime.datetime.fromisoformat(interval.split("/")[1].replace("Z", "+00:00"))
    start = end - datetime.timedelta(days=1)
    return f"{start:%Y-%m-%dT%H:%M:%S.000Z}/{end:%Y-%m-%dT%H:%M:%S.000Z}"


def run(base, client_id, client_secret, interval):
    import PureCloudPlatformClientV2 as gc
    from PureCloudPlatformClientV2.rest import ApiException

    # The configuration is a singleton; set the host before building the client.
    gc.configuration.host = base
    try:
        api_client = gc.api_client.ApiClient().get_client_credentials_token(client_id, client_secret)
    except ApiException as e:
        fail(f"client-credentials login against {base}/oauth/token failed: "
             f"HTTP {e.status} {e.reason}: {e.body}")
    except Exception as e:  # a malformed token response surfaces as KeyError or ValueError
        fail(f"client-credentials login against {base}/oauth/token failed: {e!r}")
    check(bool(api_client.access_token), "login returned no access token")
    print(f"login: token of {len(api_client.access_token)} characters")

    try:
        routing = gc.RoutingApi(api_client)
        listing = routing.get_routing_queues(page_size=3, page_number=1)
        check(isinstance(listing, gc.QueueEntityListing), "queues: not a QueueEntityListing")
        check(listing.entities, "queues: no entities")
        check(listing.total and listing.total >= len(listing.entities), "queues: bad total")
        queues = []
        page = 1
        while True:
            listing = routing.get_routing_queues(page_size=3, page_number=page)
            no_outdated_enums("queues", listing)
            queues.extend(listing.entities)
            if not listing.next_uri:
                break
            page += 1
        check(len(queues) == listing.total, "queues: pages do not add up to total")
        first = queues[0]
        check(isinstance(first, gc.Queue), "queues: entity is not a Queue")
        level = first.media_settings.call.service_level
        check(isinstance(level.duration_ms, int) and 0 < level.percentage <= 1,
              "queues: call service level not typed")
        named = routing.get_routing_queues(name=first.name[:3] + "*")
        check(any(q.id == first.id for q in named.entities), "queues: wildcard name filter")
        by_id = routing.get_routing_queues(id=[q.id for q in queues[:2]])
        check(sorted(q.id for q in by_id.entities) == sorted(q.id for q in queues[:2]),
              "queues: id filter")
        print(f"queues: {len(queues)} queues over {page} pages; "
              f"{first.name}: call {level.duration_ms} ms at {level.percentage}")

        analytics = gc.AnalyticsApi(api_client)
        query = gc.ConversationAggregationQuery()
        query.interval = interval
        query.granularity = "P1D"
        query.time_zone = "Europe/London"
        query.group_by = ["queueId", "mediaType"]
        query.metrics = ["nOffered", "tAnswered", "tAbandon", "tShortAbandon", "tFlowOut",
                         "nOverSla", "oServiceLevel"]
        query_filter = gc.ConversationAggregateQueryFilter()
        query_filter.type = "or"
        predicates = []
        for q in queues[:2]:
            predicate = gc.ConversationAggregateQueryPredicate()
            predicate.type = "dimension"
            predicate.dimension = "queueId"
            predicate.operator = "matches"
            predicate.value = q.id
            predicates.append(predicate)
        query_filter.predicates = predicates
        query.filter = query_filter
        view = gc.ConversationAggregationView()
        view.target = "tAnswered"
        view.name = "tAnsweredLe20s"
        view.function = "rangeBound"
        view_range = gc.AggregationRange()
        view_range.lt = 20001
        view.range = view_range
        query.views = [view]
        aggregates = analytics.post_analytics_conversations_aggregates_query(query)
        check(isinstance(aggregates, gc.ConversationAggregateQueryResponse),
              "aggregates: not a ConversationAggregateQueryResponse")
        check(aggregates.results, "aggregates: no results")
        no_outdated_enums("aggregates", aggregates)
        offered = 0
        views = 0
        for result in aggregates.results:
            check(result.group.get("queueId") in {q.id for q in queues[:2]}, "aggregates: group")
            for data in result.data:
                check(isinstance(data, gc.StatisticalResponse), "aggregates: data type")
                for metric in data.metrics or []:
                    check(isinstance(metric, gc.AggregateMetricData), "aggregates: metric type")
                    if metric.metric == "nOffered":
                        offered += metric.stats.count
                    if metric.metric == "oServiceLevel":
                        check(0 <= metric.stats.ratio <= 1, "aggregates: oServiceLevel ratio")
                views += len(data.views or [])
        check(offered > 0, "aggregates: nothing offered")
        check(views > 0, "aggregates: no view data")
        print(f"aggregates: {len(aggregates.results)} groups, {offered} offered, {views} view stats")

        details_query = gc.ConversationQuery()
        details_query.interval = last_day(interval)
        details_query.order = "asc"
        details_query.order_by = "conversationStart"
        paging = gc.PagingSpec()
        paging.page_size = 100
        paging.page_number = 1
        details_query.paging = paging
        ended = gc.ConversationDetailQueryPredicate()
        ended.dimension = "conversationEnd"
        ended.operator = "exists"
        conversation_filter = gc.ConversationDetailQueryFilter()
        conversation_filter.type = "and"
        conversation_filter.predicates = [ended]
        details_query.conversation_filters = [conversation_filter]
        in_queue = gc.SegmentDetailQueryPredicate()
        in_queue.type = "dimension"
        in_queue.dimension = "queueId"
        in_queue.value = queues[0].id
        segment_filter = gc.SegmentDetailQueryFilter()
        segment_filter.type = "and"
        segment_filter.predicates = [in_queue]
        details_query.segment_filters = [segment_filter]
        details = analytics.post_analytics_conversations_details_query(details_query)
        check(isinstance(details, gc.AnalyticsConversationQueryResponse),
              "details: not an AnalyticsConversationQueryResponse")
        check(details.conversations, "details: no conversations")
        check(details.total_hits >= len(details.conversations), "details: totalHits")
        no_outdated_enums("details", details)
        sessions = 0
        for conversation in details.conversations:
            check(isinstance(conversation.conversation_start, datetime.datetime),
                  "details: conversationStart is not a datetime")
            acd = [p for p in conversation.participants if p.purpose == "acd"]
            check(acd, "details: a conversation without an acd participant")
            for participant in acd:
                for session in participant.sessions:
                    sessions += 1
                    names = {m.name for m in session.metrics}
                    check("nOffered" in names, "details: acd session without nOffered")
                    check(all(isinstance(m.emit_date, datetime.datetime) for m in session.metrics),
                          "details: emitDate is not a datetime")
                    check(session.segments[0].queue_id, "details: segment without queueId")
        print(f"details: {len(details.conversations)} of {details.total_hits} conversations, "
              f"{sessions} acd sessions")

        availability = analytics.get_analytics_conversations_details_jobs_availability()
        check(isinstance(availability.data_availability_date, datetime.datetime),
              "jobs: dataAvailabilityDate is not a datetime")
        job_query = gc.AsyncConversationQuery()
        job_query.interval = last_day(interval)
        job = analytics.post_analytics_conversations_details_jobs(job_query)
        check(job.job_id, "jobs: no jobId")
        states = []
        for _ in range(5):
            status = analytics.get_analytics_conversations_details_job(job.job_id)
            states.append(status.state)
            if status.state == "FULFILLED":
                break
        check(states[-1] == "FULFILLED", f"jobs: never fulfilled ({states})")
        results = analytics.get_analytics_conversations_details_job_results(job.job_id, page_size=50)
        check(isinstance(results, gc.AnalyticsConversationAsyncQueryResponse),
              "jobs: not an AnalyticsConversationAsyncQueryResponse")
        check(results.conversations and results.cursor, "jobs: expected a first page with a cursor")
        no_outdated_enums("job results", results)
        following = analytics.get_analytics_conversations_details_job_results(
            job.job_id, cursor=results.cursor, page_size=50)
        check(following.conversations, "jobs: second page empty")
        print(f"jobs: states {states}, pages of {len(results.conversations)} conversations")
    except ApiException as e:
        fail(f"HTTP {e.status} {e.reason}: {e.body}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=os.environ.get("GENESYSCLOUD_API_BASE"))
    parser.add_argument("--client-id",
                        default=os.environ.get("GENESYSCLOUD_OAUTHCLIENT_ID", "sim-client"))
    parser.add_argument("--client-secret",
                        default=os.environ.get("GENESYSCLOUD_OAUTHCLIENT_SECRET", "sim-secret"))
    parser.add_argument("--interval", default=os.environ.get("SDK_CHECK_INTERVAL"))
    args = parser.parse_args()
    if not args.base:
        fail("no API base: pass --base or set GENESYSCLOUD_API_BASE")
    try:
        import PureCloudPlatformClientV2  # noqa: F401
    except ImportError:
        fail("the SDK is not installed: pip install purecloudplatformclientv2")
    try:
        run(args.base.rstrip("/"), args.client_id, args.client_secret,
            args.interval or default_interval())
    except SystemExit:
        raise
    except Exception:
        traceback.print_exc()
        fail("unexpected exception (see the traceback above)")
    print("SDK CHECK PASSED")


if __name__ == "__main__":
    main()
